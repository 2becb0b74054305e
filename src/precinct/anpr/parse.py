"""Readers and validators for plate/tag reads (CSV, Parquet, JSON, Arrow IPC).

Every reader yields :class:`RawChunk` objects (columns as Arrow arrays plus the source location of
each row); :func:`validate` turns a chunk into the canonical Arrow table (:data:`CANONICAL`) and a
list of :class:`Reject` naming the line/row/item, the field and the reason. Problems with the
input as a whole (wrong columns, a truncated Parquet file, a body that is not JSON) raise
:class:`~precinct.errors.BadInput` instead, so the caller imports nothing.

The fast paths are vectorised (pyarrow); a cast that fails is bisected to find exactly the values
that fail, so a value is accepted or refused the same way whatever else is in its chunk.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from precinct.anpr.normalize import MAX_PLATE_LENGTH, normalize_array
from precinct.errors import BadInput

COLUMNS = ("plate", "ts", "lat", "lon", "camera_id", "read_id", "kind", "confidence")
REQUIRED = ("plate", "ts")
KINDS = ("plate", "tag")
MAX_ID_LENGTH = 128
MAX_REJECT_DETAILS = 1000
DEFAULT_CHUNK_ROWS = 1_000_000

CANONICAL = pa.schema(
    [
        ("plate", pa.string()),
        ("ts_us", pa.int64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("camera_id", pa.string()),
        ("read_id", pa.string()),
        ("kind", pa.string()),
        ("confidence", pa.float32()),
        ("line", pa.int64()),
    ]
)
TS_TYPE = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Reject:
    """One refused row: where (``line`` of a CSV file, 1-based ``item`` of a JSON batch, ``row``
    of a Parquet file or Arrow stream), which field and why."""

    line: int
    field: str
    reason: str

    def as_dict(self, unit: str = "line") -> dict[str, Any]:
        return {unit: self.line, "field": self.field, "reason": self.reason}


@dataclass
class BatchResult:
    """What one ingest batch did: stored, duplicate and rejected counts, and the reject details."""

    batch: int
    stored: int
    duplicates: int
    rejected: int
    rejects: list[Reject]

    def as_dict(self, unit: str = "line") -> dict[str, Any]:
        """The result as JSON-ready data, rejects located by ``unit`` (line or item)."""
        return {
            "batch": self.batch,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects": [r.as_dict(unit) for r in self.rejects],
        }


@dataclass
class RawChunk:
    columns: dict[str, pa.Array]
    lines: np.ndarray  # int64 source location of each row
    rejects: list[Reject] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.lines)


@dataclass
class Rejects:
    """Rejected rows: a count and the first :data:`MAX_REJECT_DETAILS` details."""

    count: int = 0
    details: list[Reject] = field(default_factory=list)

    def add(self, rejects: Iterable[Reject]) -> None:
        for r in rejects:
            self.count += 1
            if len(self.details) < MAX_REJECT_DETAILS:
                self.details.append(r)


# --- column headers ----------------------------------------------------------------------------


def check_header(names: list[str], *, where: str = "line 1") -> dict[str, str]:
    """Map the source's column names to ours; raise BadInput naming what is wrong."""
    mapping: dict[str, str] = {}
    for raw in names:
        key = str(raw).strip().lstrip("\ufeff").lower()
        if key in COLUMNS:
            if key in mapping.values():
                raise BadInput(
                    f"wrong columns: {key!r} appears twice ({where})",
                    detail={"line": 1, "field": key, "found": names},
                )
            mapping[str(raw)] = key
    present = set(mapping.values())
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise BadInput(
            f"wrong columns: missing {', '.join(missing)} ({where}); expected {', '.join(COLUMNS)}",
            detail={"line": 1, "field": missing[0], "missing": missing, "found": names},
        )
    if ("lat" in present) != ("lon" in present):
        raise BadInput(
            f"wrong columns: lat and lon go together ({where})",
            detail={"line": 1, "field": "lat" if "lon" in present else "lon", "found": names},
        )
    if "lat" not in present and "camera_id" not in present:
        raise BadInput(
            f"wrong columns: need lat and lon, or camera_id of a known camera ({where})",
            detail={"line": 1, "field": "lat", "found": names},
        )
    return mapping


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


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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
                pending.append(batch)
                if sum(b.num_rows for b in pending) >= chunk_rows:
                    out = chunk()
                    yield out
                    row += out.num_rows
        if pending:
            yield chunk()
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInput(
            f"Parquet file unreadable after row {row - 1} (truncated or corrupt): "
            f"{_first_line(exc)}",
            detail={"file": str(path), "row": row, "field": "file"},
        ) from None


def parse_arrow_ipc(data: bytes) -> list[RawChunk]:
    """An Arrow IPC stream or file body."""
    try:
        try:
            table = pa.ipc.open_stream(pa.BufferReader(data)).read_all()
        except pa.ArrowInvalid:
            table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
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


# --- JSON --------------------------------------------------------------------------------------


def parse_json(
    data: bytes,
    *,
    key: str = "reads",
    columns: tuple[str, ...] = COLUMNS,
    string_fields: tuple[str, ...] | None = None,
) -> list[RawChunk]:
    """A JSON batch: ``{"reads": [{...}, ...]}`` or a bare list. Items are numbered from 1.

    Columns are built whole and typed by Arrow; only a column whose values are of mixed or wrong
    JSON types is checked item by item (so a clean batch costs no per-item Python work). ``key``,
    ``columns`` and ``string_fields`` describe another batch format (person–vehicle links).
    """
    strings = _STRING_FIELDS if string_fields is None else string_fields
    if key == "reads" and columns == COLUMNS:
        typed = _typed_reads(data)
        if typed is not None:  # every item an object with scalar fields: no per-item checks
            numbers = list(range(1, len(typed) + 1))
            found: dict[int, tuple[str, str]] = {}
            cols = {
                name: _json_column(name, [getattr(o, name) for o in typed], numbers, found, strings)
                for name in columns
            }
            return _json_chunk(cols, numbers, found)
    doc = _decode_json(data)
    items = doc.get(key) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise BadInput(
            f'expected a JSON list of {key} or {{"{key}": [...]}}',
            detail={"item": 0, "field": key},
        )
    problems: dict[int, tuple[str, str]] = {}
    numbers = [n for n, item in enumerate(items, start=1) if type(item) is dict]
    if len(numbers) != len(items):
        for n, item in enumerate(items, start=1):
            if type(item) is not dict:
                problems[n] = ("item", "each read must be a JSON object")
    objs = [items[n - 1] for n in numbers]
    arrays: dict[str, pa.Array] = {}
    for name in columns:
        values = [o.get(name) for o in objs]
        arrays[name] = _json_column(name, values, numbers, problems, strings)
    return _json_chunk(arrays, numbers, problems)


def _json_chunk(
    arrays: dict[str, pa.Array], numbers: list[int], problems: dict[int, tuple[str, str]]
) -> list[RawChunk]:
    keep = np.array([n not in problems for n in numbers], dtype=bool)
    if not keep.all():
        mask = pa.array(keep)
        arrays = {k: v.filter(mask) for k, v in arrays.items()}
    lines = np.asarray(numbers, dtype=np.int64)[keep]
    rejects = [Reject(n, f, r) for n, (f, r) in sorted(problems.items())]
    return [RawChunk(arrays, lines, rejects)]


_STRING_FIELDS = ("plate", "ts", "camera_id", "read_id", "kind")
_Scalar = str | int | float | None  # msgspec refuses true/false, objects and lists here


class _Read(msgspec.Struct):
    plate: _Scalar = None
    ts: _Scalar = None
    lat: _Scalar = None
    lon: _Scalar = None
    camera_id: _Scalar = None
    read_id: _Scalar = None
    kind: _Scalar = None
    confidence: _Scalar = None


class _ReadsDoc(msgspec.Struct):
    reads: list[_Read]


_READS_LIST = msgspec.json.Decoder(list[_Read])
_READS_DOC = msgspec.json.Decoder(_ReadsDoc)


def _typed_reads(data: bytes | str) -> list[_Read] | None:
    """The reads of a clean batch decoded straight into records, or None when anything is unusual
    (an item that is not an object, a field that is not a scalar, a value JSON allows but msgspec
    does not): then :func:`parse_json` takes the general path, item by item."""
    raw = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.encode("utf-8")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        if raw.lstrip()[:1] == b"[":
            return _READS_LIST.decode(raw)
        return _READS_DOC.decode(raw).reads
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        return None


def _decode_json(data: bytes | str) -> Any:
    """The JSON document: msgspec's decoder first (a few times faster), and where it refuses
    (integers beyond 64 bits, NaN, very deep nesting, bad UTF-8) the standard library's, so a
    body is accepted or refused exactly as ``json.loads`` would."""
    raw = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.encode("utf-8")
    try:
        return msgspec.json.decode(raw.removeprefix(codecs.BOM_UTF8))
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):  # msgspec raises the last on bad UTF-8
        pass
    try:
        return json.loads(codecs.decode(raw, "utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInput(
            f"body is not valid JSON: {str(exc)[:200]}", detail={"item": 0, "field": "body"}
        ) from None


def _json_column(
    name: str,
    values: list[Any],
    numbers: list[int],
    problems: dict[int, tuple[str, str]],
    string_fields: tuple[str, ...] = _STRING_FIELDS,
) -> pa.Array:
    """One column of a JSON batch as Arrow; values of the wrong JSON type become problems."""
    try:
        arr = pa.array(values)
        t = arr.type
        if pa.types.is_null(t) or pa.types.is_string(t):
            return arr.cast(pa.string())
        if pa.types.is_integer(t) or (pa.types.is_floating(t) and name not in string_fields):
            return arr.cast(pa.string()) if name in string_fields else arr.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    out: list[str | None] = []
    for n, value in zip(numbers, values, strict=True):
        if value is None:
            out.append(None)
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            problems.setdefault(
                n, (name, f"{name} must be a string or a number, not {type(value).__name__}")
            )
            out.append(None)
        elif name in string_fields and isinstance(value, float):
            problems.setdefault(n, (name, f"{name} must be a string"))
            out.append(None)
        elif isinstance(value, str) and _has_surrogates(value):  # a lone \uD800-style escape
            problems.setdefault(n, (name, f"{name} is not valid Unicode (a lone surrogate)"))
            out.append(None)
        else:
            out.append(value if isinstance(value, str) else repr(value))
    return pa.array(out, type=pa.string())


# --- validation --------------------------------------------------------------------------------


def _as_string(arr: pa.Array) -> pa.Array:
    if pa.types.is_null(arr.type):
        arr = pa.nulls(len(arr), pa.string())
    elif pa.types.is_integer(arr.type):
        return arr.cast(pa.string())  # never blank
    elif not pa.types.is_string(arr.type):
        try:
            arr = arr.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise BadInput(
                f"a column has an unsupported type ({arr.type}); use strings or numbers",
                detail={"field": "column", "type": str(arr.type)},
            ) from None
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _bisect_cast(arr: pa.Array, to: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast, returning nulls where single values fail; the mask marks failed (non-null) inputs.

    Halves that fail are split until they are small, then cast value by value, so a value is
    accepted or refused exactly as a one-value cast would, whatever else is in the chunk.
    """
    try:
        return arr.cast(to), np.zeros(len(arr), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if len(arr) <= 64:
        values: list[pa.Array] = []
        bad = np.zeros(len(arr), dtype=bool)
        for i in range(len(arr)):
            try:
                values.append(arr.slice(i, 1).cast(to))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values.append(pa.nulls(1, to))
                bad[i] = True
        return pa.concat_arrays(values), bad
    mid = len(arr) // 2
    left, lbad = _bisect_cast(arr.slice(0, mid), to)
    right, rbad = _bisect_cast(arr.slice(mid), to)
    return pa.concat_arrays([left, right]), np.concatenate([lbad, rbad])


def _to_float(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    if (
        pa.types.is_floating(arr.type)
        or pa.types.is_integer(arr.type)
        or pa.types.is_decimal(arr.type)
    ):
        return arr.cast(pa.float64()), np.zeros(len(arr), dtype=bool)
    return _bisect_cast(_as_string(arr), pa.float64())


def _to_ts(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:  # naive Parquet timestamps are taken as UTC
            arr = pc.assume_timezone(arr, "UTC")
        return arr.cast(TS_TYPE), np.zeros(len(arr), dtype=bool)
    if pa.types.is_date(arr.type) or not (
        pa.types.is_string(arr.type)
        or pa.types.is_large_string(arr.type)
        or pa.types.is_dictionary(arr.type)
    ):
        return pa.nulls(len(arr), TS_TYPE), pc.is_valid(arr).to_numpy(zero_copy_only=False)
    return _bisect_cast(_as_string(arr), TS_TYPE)


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def validate(
    chunk: RawChunk, *, cameras: dict[str, tuple[float, float]] | None = None
) -> tuple[pa.Table, list[Reject]]:
    """The chunk's valid rows in :data:`CANONICAL` form, and a Reject for each other row.

    ``cameras`` (camera_id -> (lat, lon)) fills in positions for rows that name a known camera
    and carry no coordinates.
    """
    n = chunk.num_rows
    bad = np.zeros(n, dtype=bool)
    found: list[tuple[int, str, str]] = []

    def flag(mask: np.ndarray, fld: str, reason: str | Callable[[int], str]) -> None:
        new = mask & ~bad
        if new.any():
            for i in np.flatnonzero(new)[:MAX_REJECT_DETAILS]:
                found.append((int(i), fld, reason(int(i)) if callable(reason) else reason))
            # rows beyond the detail limit are still refused, with the generic reason
            for i in np.flatnonzero(new)[MAX_REJECT_DETAILS:]:
                found.append((int(i), fld, reason if isinstance(reason, str) else f"invalid {fld}"))
            bad[new] = True

    cols = chunk.columns
    nulls_s = pa.nulls(n, pa.string())

    plate_raw = _as_string(cols.get("plate", nulls_s))
    plate = normalize_array(plate_raw)
    lens = pc.utf8_length(plate)
    flag(_mask(pc.is_null(plate_raw)), "plate", "empty plate")
    flag(
        _mask(pc.fill_null(pc.equal(lens, 0), True)),
        "plate",
        "plate has no letters or digits after normalisation",
    )
    flag(
        _mask(pc.fill_null(pc.greater(lens, MAX_PLATE_LENGTH), False)),
        "plate",
        f"plate longer than {MAX_PLATE_LENGTH} characters",
    )

    ts_in = cols.get("ts", nulls_s)
    ts, ts_bad = _to_ts(ts_in if not pa.types.is_null(ts_in.type) else nulls_s)
    flag(_mask(pc.is_null(ts)) & ~ts_bad, "ts", "ts is required")
    flag(ts_bad, "ts", "ts is not an ISO 8601 time with an offset (e.g. 2026-05-01T08:30:00+08:00)")

    camera_id = _as_string(cols.get("camera_id", nulls_s))
    flag(
        _mask(pc.fill_null(pc.greater(pc.utf8_length(camera_id), MAX_ID_LENGTH), False)),
        "camera_id",
        f"camera_id longer than {MAX_ID_LENGTH} characters",
    )
    read_id = _as_string(cols.get("read_id", nulls_s))
    flag(
        _mask(pc.fill_null(pc.greater(pc.utf8_length(read_id), MAX_ID_LENGTH), False)),
        "read_id",
        f"read_id longer than {MAX_ID_LENGTH} characters",
    )

    lat, lat_bad = _to_float(cols.get("lat", pa.nulls(n, pa.float64())))
    lon, lon_bad = _to_float(cols.get("lon", pa.nulls(n, pa.float64())))
    flag(lat_bad, "lat", "lat is not a number")
    flag(lon_bad, "lon", "lon is not a number")
    lat_np = lat.to_numpy(zero_copy_only=False).astype(np.float64)
    lon_np = lon.to_numpy(zero_copy_only=False).astype(np.float64)
    lat_null, lon_null = (
        np.isnan(lat_np) & _mask(pc.is_null(lat)),
        np.isnan(lon_np) & _mask(pc.is_null(lon)),
    )
    with np.errstate(invalid="ignore"):
        flag(
            ~lat_null & ~((lat_np >= -90.0) & (lat_np <= 90.0)), "lat", "lat out of range (-90..90)"
        )
        flag(
            ~lon_null & ~((lon_np >= -180.0) & (lon_np <= 180.0)),
            "lon",
            "lon out of range (-180..180)",
        )
    flag(
        lat_null != lon_null,
        "lat" if bool((lat_null & ~lon_null).any()) else "lon",
        "lat and lon go together",
    )
    no_pos = lat_null & lon_null
    if no_pos.any():
        cam_np = np.asarray(camera_id.to_numpy(zero_copy_only=False), dtype=object)
        known = cameras or {}
        for i in np.flatnonzero(no_pos & ~bad):
            pos = known.get(cam_np[i]) if cam_np[i] is not None else None
            if pos is not None:
                lat_np[i], lon_np[i] = pos
        still = no_pos & np.isnan(lat_np)
        flag(still & _mask(pc.is_null(camera_id)), "lat", "no lat/lon and no camera_id")
        flag(
            still,
            "camera_id",
            lambda i: f"no lat/lon and camera {cam_np[i]!r} is not a known camera",
        )

    kind = _as_string(cols.get("kind", nulls_s))
    kind = pc.fill_null(pc.utf8_lower(kind), "plate")
    flag(~_mask(pc.is_in(kind, value_set=pa.array(KINDS))), "kind", "kind must be plate or tag")

    conf, conf_bad = _to_float(cols.get("confidence", pa.nulls(n, pa.float64())))
    flag(conf_bad, "confidence", "confidence is not a number")
    conf_np = conf.to_numpy(zero_copy_only=False).astype(np.float64)
    conf_null = _mask(pc.is_null(conf))
    with np.errstate(invalid="ignore"):
        flag(
            ~conf_null & ~((conf_np >= 0.0) & (conf_np <= 1.0)),
            "confidence",
            "confidence out of range (0..1)",
        )

    keep = ~bad
    table = pa.table(
        {
            "plate": plate,
            "ts_us": ts.cast(pa.int64()),
            "lat": pa.array(lat_np, type=pa.float64()),
            "lon": pa.array(lon_np, type=pa.float64()),
            "camera_id": camera_id,
            "read_id": read_id,
            "kind": kind,
            "confidence": pa.array(conf_np, type=pa.float64(), mask=conf_null).cast(pa.float32()),
            "line": pa.array(chunk.lines, type=pa.int64()),
        },
        schema=CANONICAL,
    )
    if bad.any():
        table = table.filter(pa.array(keep))
    lines = chunk.lines
    rejects = list(chunk.rejects) + [Reject(int(lines[i]), f, r) for i, f, r in found]
    rejects.sort(key=lambda r: r.line)
    return table, rejects
