"""Readers and validators for plate/tag reads (CSV, Parquet, JSON, Arrow IPC).

Every reader yields :class:`RawChunk` objects (columns as Arrow arrays plus the source location of
each row); :func:`validate` turns a chunk into the canonical Arrow table (:data:`CANONICAL`) and a
list of :class:`Reject` naming the line/row/item, the field and the reason. Problems with the
input as a whole (wrong columns, a truncated Parquet file, a body that is not JSON) raise
:class:`~precinct.errors.BadInput` instead, so the caller imports nothing.

The fast paths are vectorised (pyarrow); a cast that fails is bisected to find exactly the values
that fail, so a value is accepted or refused the same way whatever else is in its chunk.

Layout: the CSV, Parquet and Arrow IPC readers are here; the shared types and constants are
:mod:`precinct.anpr.parse_base`, JSON is :mod:`precinct.anpr.parse_json` and validation
:mod:`precinct.anpr.parse_validate`; every public name is importable from here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from precinct.anpr.parse_base import (
    CANONICAL,
    COLUMNS,
    DEFAULT_CHUNK_ROWS,
    KINDS,
    MAX_ID_LENGTH,
    MAX_REJECT_DETAILS,
    REQUIRED,
    TS_TYPE,
    BatchResult,
    RawChunk,
    Reject,
    Rejects,
    _has_surrogates,
    check_header,
)
from precinct.anpr.parse_json import parse_json
from precinct.anpr.parse_validate import validate
from precinct.errors import BadInput

__all__ = [
    "CANONICAL", "COLUMNS", "DEFAULT_CHUNK_ROWS", "KINDS", "MAX_ID_LENGTH", "MAX_REJECT_DETAILS", "REQUIRED",
    "TS_TYPE", "BatchResult", "RawChunk", "Reject", "Rejects", "check_header", "iter_csv", "iter_csv_slow",
    "iter_parquet", "iter_parquet_body", "parse_arrow_ipc", "parse_csv", "parse_json", "read_csv_chunks", "validate",
]


# --- CSV ---------------------------------------------------------------------------------------


class _NeedSlowPath(Exception):
    pass


def _csv_source(source: Path | bytes) -> io.BufferedReader | io.BytesIO:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    return open(source, "rb")


def _read_header(source: Path | bytes) -> tuple[list[str], int]:
    """The header's fields and its byte length (fast path only handles a simple header)."""
    with _csv_source(source) as fh:
        first = fh.readline()
    if not first.strip():
        raise BadInput(
            "empty file: expected a header line naming the columns",
            detail={"line": 1, "field": "header"},
        )
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(
            "the header line is not valid UTF-8", detail={"line": 1, "field": "header"}
        ) from None
    try:
        names = next(csv.reader([text.rstrip("\r\n")]))
    except csv.Error as exc:  # e.g. a bare carriage return inside the header
        raise BadInput(
            f"the header line is not valid CSV: {exc}", detail={"line": 1, "field": "header"}
        ) from None
    return names, len(first)


def iter_csv(source: Path | bytes, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[RawChunk]:
    """Chunks of a CSV file or body. Line numbers count the header as line 1.

    The fast path (pyarrow's multi-threaded reader) is used while every row is well formed; if a
    row has the wrong number of fields, is not UTF-8 or spans lines, the whole input is re-read
    with Python's csv module so that every line number is exact. Callers must run the import in
    one transaction, because the fast path may raise ``_NeedSlowPath`` part-way (handled by
    :func:`read_csv_chunks`).
    """
    names, _ = _read_header(source)
    mapping = check_header(names)

    def _invalid(_row: Any) -> str:
        return "error"  # pyarrow then raises ArrowInvalid, which switches to the exact reader

    block = 1 << 24
    read_opts = pcsv.ReadOptions(block_size=block, use_threads=True)
    parse_opts = pcsv.ParseOptions(
        invalid_row_handler=_invalid, newlines_in_values=False, ignore_empty_lines=False
    )
    convert_opts = pcsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        include_columns=list(mapping),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    line = 2
    with _csv_source(source) as fh:
        try:
            reader = pcsv.open_csv(
                fh, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts
            )
            pending: list[pa.RecordBatch] = []
            pending_rows = 0
            for batch in reader:
                pending.append(batch)
                pending_rows += batch.num_rows
                if pending_rows >= chunk_rows:
                    yield _chunk_from_batches(pending, mapping, line)
                    line += pending_rows
                    pending, pending_rows = [], 0
            if pending:
                yield _chunk_from_batches(pending, mapping, line)
        except pa.ArrowInvalid as exc:
            raise _NeedSlowPath from exc


def _chunk_from_batches(
    batches: list[pa.RecordBatch], mapping: dict[str, str], first_line: int
) -> RawChunk:
    table = pa.Table.from_batches(batches)
    cols = {
        mapping[n]: table.column(n).combine_chunks() for n in table.column_names if n in mapping
    }
    return RawChunk(cols, np.arange(first_line, first_line + table.num_rows, dtype=np.int64))


def iter_csv_slow(
    source: Path | bytes,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    header: Callable[[list[str]], dict[str, str]] = check_header,
) -> Iterator[RawChunk]:
    """Exact, line-by-line CSV reading (quoted newlines, ragged rows, bad UTF-8 reported per row).

    ``header`` maps the source's column names to ours (raising BadInput); the reads format's
    :func:`check_header` by default.
    """
    with _csv_source(source) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            names = next(reader)
        except StopIteration:
            raise BadInput(
                "empty file: expected a header line naming the columns",
                detail={"line": 1, "field": "header"},
            ) from None
        except csv.Error as exc:
            raise BadInput(
                f"the header line is not valid CSV: {exc}", detail={"line": 1, "field": "header"}
            ) from None
        mapping = header(names)
        positions = {i: mapping[n] for i, n in enumerate(names) if n in mapping}
        width = len(names)
        cols: dict[str, list[str]] = {c: [] for c in positions.values()}
        lines: list[int] = []
        rejects: list[Reject] = []
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                rejects.append(Reject(start, "row", f"malformed CSV: {exc}"))
                start = reader.line_num + 1
                continue
            here, start = start, reader.line_num + 1
            if len(row) != width:
                reason = (
                    "blank line"
                    if not row or row == [""]
                    else f"expected {width} fields, found {len(row)}"
                )
                rejects.append(Reject(here, "row", reason))
                continue
            if any(_has_surrogates(v) for v in row):
                rejects.append(Reject(here, "row", "not valid UTF-8"))
                continue
            for i, name in positions.items():
                cols[name].append(row[i])
            lines.append(here)
            if len(lines) >= chunk_rows:
                yield _raw_from_lists(cols, lines, rejects)
                cols, lines, rejects = {c: [] for c in positions.values()}, [], []
        if lines or rejects:
            yield _raw_from_lists(cols, lines, rejects)


def _raw_from_lists(
    cols: dict[str, list[Any]], lines: list[int], rejects: list[Reject]
) -> RawChunk:
    return RawChunk(
        {k: pa.array(v, type=pa.string()) for k, v in cols.items()},
        np.asarray(lines, dtype=np.int64),
        list(rejects),
    )


def read_csv_chunks(
    source: Path | bytes,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    consume: Callable[[RawChunk], None],
    restart: Callable[[], None],
) -> None:
    """Feed every chunk to ``consume``; if the fast path gives up, call ``restart`` and re-read."""
    try:
        for chunk in iter_csv(source, chunk_rows=chunk_rows):
            consume(chunk)
    except _NeedSlowPath:
        restart()
        for chunk in iter_csv_slow(source, chunk_rows=chunk_rows):
            consume(chunk)


def parse_csv(data: bytes) -> list[RawChunk]:
    """All chunks of an in-memory CSV body."""
    try:
        return list(iter_csv(data))
    except _NeedSlowPath:
        return list(iter_csv_slow(data))


# --- Parquet and Arrow -------------------------------------------------------------------------


def iter_parquet(path: Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[RawChunk]:
    """Chunks of a Parquet file; a truncated or corrupt file raises BadInput naming the row."""
    try:
        pf = pq.ParquetFile(str(path))
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(
            f"not a readable Parquet file (truncated or corrupt): {_first_line(exc)}",
            detail={"file": str(path), "row": 0, "field": "file"},
        ) from None
    yield from _parquet_chunks(pf, chunk_rows=chunk_rows, where={"file": str(path)})


def iter_parquet_body(data: bytes, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[RawChunk]:
    """Chunks of a Parquet request body, bounded like every compressed upload.

    The footer's row count and uncompressed sizes are checked against the limits
    (:func:`precinct.core.limits.parquet_budget_check`) before any row group is read; then each
    batch read is counted too (a footer may understate), row group by row group. A body that is not
    Parquet, or is truncated, raises BadInput naming the problem.
    """
    from precinct.core.limits import DecompressionBudget, parquet_budget_check

    try:
        pf = pq.ParquetFile(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(
            f"body is not a readable Parquet file (truncated or corrupt): {_first_line(exc)}",
            detail={"row": 0, "field": "body"},
        ) from None
    parquet_budget_check(pf.metadata, what="Parquet body")
    budget = DecompressionBudget(what="Parquet body")
    yield from _parquet_chunks(pf, chunk_rows=chunk_rows, where={"field": "body"}, budget=budget)


def _parquet_chunks(
    pf: pq.ParquetFile, *, chunk_rows: int, where: dict[str, Any], budget: Any = None
) -> Iterator[RawChunk]:
    names = pf.schema_arrow.names
    mapping = check_header(names, where="Parquet schema")
    row = 1
    pending: list[pa.RecordBatch] = []

    def chunk() -> RawChunk:
        table = pa.Table.from_batches(pending)
        cols = {mapping[n]: table.column(n).combine_chunks() for n in table.column_names}
        pending.clear()
        return RawChunk(cols, np.arange(row, row + table.num_rows, dtype=np.int64))

    try:
        # one reader per row group: a single reader over the whole file holds on to memory in
        # proportion to what it has read (hundreds of MiB over 100 million reads)
        for group in range(pf.num_row_groups):
            for batch in pf.iter_batches(batch_size=chunk_rows, row_groups=[group], columns=list(mapping)):
                if budget is not None:
                    budget.add(nbytes=batch.nbytes, rows=batch.num_rows)
                pending.append(batch)
                if sum(b.num_rows for b in pending) >= chunk_rows:
                    out = chunk()
                    yield out
                    row += out.num_rows
        if pending:
            yield chunk()
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(
            f"Parquet {'file' if 'file' in where else 'body'} unreadable after row {row - 1} "
            f"(truncated or corrupt): {_first_line(exc)}",
            detail={"field": "file", **where, "row": row},
        ) from None


def parse_arrow_ipc(data: bytes) -> list[RawChunk]:
    """An Arrow IPC stream or file body."""
    from precinct.core.limits import DecompressionBudget, read_arrow_stream_bounded

    # batch by batch against the decompressed-size and row limits: a small compressed stream
    # may decompress to gigabytes (a stream's batches are refused before they are decompressed)
    budget = DecompressionBudget(what="Arrow IPC body")
    try:
        reader: Any
        try:
            table = read_arrow_stream_bounded(data)  # sizes from each batch's header, before decompressing
        except (pa.ArrowInvalid, OSError, ValueError, IndexError):  # not a stream: an IPC file?
            reader = pa.ipc.open_file(pa.BufferReader(data))
            batches = []
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                budget.add(nbytes=batch.nbytes, rows=batch.num_rows)
                batches.append(batch)
            table = pa.Table.from_batches(batches, schema=reader.schema)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(
            f"body is not an Arrow IPC stream or file: {_first_line(exc)}",
            detail={"row": 0, "field": "body"},
        ) from None
    mapping = check_header(table.column_names, where="Arrow schema")
    cols = {
        mapping[n]: table.column(n).combine_chunks() for n in table.column_names if n in mapping
    }
    return [RawChunk(cols, np.arange(1, table.num_rows + 1, dtype=np.int64))]


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
