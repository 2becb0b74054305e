"""Request-size and decompression limits, enforced before work.

:class:`BodyLimitMiddleware` counts request-body bytes as they arrive, before authentication and
before any parsing, and answers 413 past the limit. Every route gets the small default; the bulk
ingest routes (:data:`BULK_ROUTES`) and the list-taking routes (:data:`LARGE_ROUTES`) get their
larger limits only once the caller's bearer token has been
resolved to a live session whose role may perform the route's policy action. An anonymous or
unauthorised upload to a bulk route is therefore cut at the small default too.

:class:`DecompressionBudget` bounds compressed inputs (Arrow IPC with compressed buffers, gzip via
:func:`gunzip_bounded`, Parquet footers via :func:`parquet_budget_check`) by decompressed bytes and
rows, batch by batch, before they are materialised.

Limits are read from the environment (:class:`Limits`: ``PRECINCT_MAX_BODY_BYTES``,
``PRECINCT_MAX_BULK_BODY_BYTES``, ``PRECINCT_MAX_LARGE_BODY_BYTES``,
``PRECINCT_MAX_DECOMPRESSED_BYTES``, ``PRECINCT_MAX_ROWS``, ``PRECINCT_SESSION_MAX_HOURS`` ...), defined
beside the settings in :mod:`precinct.config`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from precinct.config import MIB, get_limits
from precinct.errors import BadInput, PrecinctError

# path -> policy action whose roles may use the bulk limit
BULK_ROUTES: dict[str, str] = {
    "/api/v1/anpr/reads": "anpr.reads",
    "/api/v1/anpr/links": "anpr.links",
    "/api/v1/fraud/reports/import": "fraud.import",
}
# path -> policy action whose roles may send a large (but not bulk) request: long lists of
# demand points, hotlist entries, watchlist plates or read ids
LARGE_ROUTES: dict[str, str] = {
    "/api/v1/anpr/hotlist": "anpr.hotlist.edit",
    "/api/v1/anpr/associate": "anpr.associate",
    "/api/v1/anpr/series": "anpr.series",
    "/api/v1/anpr/case-reads": "anpr.case_reads",
    "/api/v1/patrol/posts": "patrol.posts",
    "/api/v1/patrol/zones": "patrol.zones",
    "/api/v1/patrol/risk-grid": "patrol.risk",
}

# route path (as in the route table) -> policy action whose roles may upload a scene attachment (a
# photo or a note) of up to ``max_attachment_bytes``; everyone else is cut at the small default
ATTACHMENT_ROUTES: dict[str, str] = {
    "/api/v1/incidents/{incident_id}/attachments": "attachments.create",
    "/api/v1/cases/{case_id}/attachments": "cases.attachments.create",
}
_ATTACHMENT_PATTERNS = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$"), a)
                        for p, a in ATTACHMENT_ROUTES.items()]


def _attachment_action(path: str) -> str | None:
    return next((a for rx, a in _ATTACHMENT_PATTERNS if rx.match(path)), None)


class PayloadTooLarge(PrecinctError):
    """The request body exceeds the limit of its route (HTTP 413)."""

    code = "payload_too_large"
    http_status = 413
    exit_code = 2


def _too_large_body(limit: int) -> bytes:
    err = PayloadTooLarge(f"request body larger than {limit} bytes; split it or use the bulk routes",
                          detail={"field": "body", "limit_bytes": limit})
    return json.dumps(err.to_body()).encode()


class _Exceeded(Exception):
    pass


@dataclass
class _Header:
    authorization: str | None = None
    content_length: int | None = None


def _headers(scope: Any) -> _Header:
    out = _Header()
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            out.authorization = value.decode("latin-1")
        elif name == b"content-length":
            try:
                out.content_length = int(value)
            except ValueError:
                out.content_length = None
    return out


class BodyLimitMiddleware:
    """Pure ASGI: 413 as soon as a request body passes its route's limit (nothing is buffered here)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def _limit_for(self, scope: Any, header: _Header) -> int:
        limits = get_limits()
        path = scope.get("path", "")
        attachment = _attachment_action(path)
        action = BULK_ROUTES.get(path) or LARGE_ROUTES.get(path) or attachment
        if action is None or not header.authorization:
            return limits.max_body_bytes
        scheme, _, token = header.authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return limits.max_body_bytes
        app_state = getattr(scope.get("app"), "state", None)
        db, settings = getattr(app_state, "db", None), getattr(app_state, "settings", None)
        if db is None or settings is None:
            return limits.max_body_bytes
        from precinct.core.identity import resolve_token
        from precinct.core.policy import rule_for

        try:
            principal = await run_in_threadpool(resolve_token, db, settings, token.strip())
        except PrecinctError:
            return limits.max_body_bytes
        if principal.role not in rule_for(action).roles:
            return limits.max_body_bytes
        if attachment is not None:
            return limits.max_attachment_bytes
        big = limits.max_bulk_body_bytes if path in BULK_ROUTES else limits.max_large_body_bytes
        return max(big, limits.max_body_bytes)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        header = _headers(scope)
        limit = await self._limit_for(scope, header)
        if header.content_length is not None and header.content_length > limit:
            await self._reject(send, limit)
            return
        seen = 0
        started = exceeded = False

        async def _receive() -> Any:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise _Exceeded
            return message

        async def _send(message: Any) -> None:
            nonlocal started
            if exceeded:  # whatever the app made of the interrupted body (FastAPI: a 400), it is a 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._reject(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, _receive, _send)
        except _Exceeded:
            if not started:
                started = True
                await self._reject(send, limit)

    @staticmethod
    async def _reject(send: Any, limit: int) -> None:
        body = _too_large_body(limit)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


# --- decompression ---------------------------------------------------------------------------------


class DecompressionBudget:
    """Counts decompressed bytes and rows of one upload; :meth:`add` raises BadInput past a limit."""

    def __init__(self, *, what: str, max_bytes: int | None = None, max_rows: int | None = None) -> None:
        limits = get_limits()
        self.what = what
        self.max_bytes = max_bytes if max_bytes is not None else limits.max_decompressed_bytes
        self.max_rows = max_rows if max_rows is not None else limits.max_rows
        self.bytes = 0
        self.rows = 0

    def add(self, *, nbytes: int = 0, rows: int = 0) -> None:
        """Count one batch (decompressed bytes, rows); refuse past either limit."""
        self.bytes += nbytes
        self.rows += rows
        if self.bytes > self.max_bytes:
            raise BadInput(f"{self.what} decompresses to more than {self.max_bytes} bytes "
                           "(PRECINCT_MAX_DECOMPRESSED_BYTES); split it",
                           detail={"field": "body", "limit": "max_decompressed_bytes",
                                   "limit_bytes": self.max_bytes})
        if self.rows > self.max_rows:
            raise BadInput(f"{self.what} has more than {self.max_rows} rows (PRECINCT_MAX_ROWS); split it",
                           detail={"field": "body", "limit": "max_rows", "limit_rows": self.max_rows})


def gunzip_bounded(data: bytes, *, what: str = "gzip upload", max_bytes: int | None = None) -> bytes:
    """Decompress gzip data (one or more members), refusing once the output passes ``max_bytes``.

    Parameters
    ----------
    data : bytes
        The compressed body.
    what : str
        What the data is, for the error message.
    max_bytes : int, optional
        The decompressed-size limit (default ``PRECINCT_MAX_DECOMPRESSED_BYTES``).

    Returns
    -------
    bytes
        The decompressed data; at most ``max_bytes`` (plus one 1 MiB step) is ever held.

    Raises
    ------
    BadInput
        Past the limit (``detail.limit == "max_decompressed_bytes"``), or when the data is not gzip
        or is truncated (``detail.field == "body"``).
    """
    import zlib

    budget = DecompressionBudget(what=what, max_bytes=max_bytes)
    out: list[bytes] = []
    chunk = 1 * MIB
    rest = data
    try:
        while True:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            buf = d.decompress(rest, chunk)
            while True:
                budget.add(nbytes=len(buf))
                out.append(buf)
                if not d.unconsumed_tail:
                    break
                buf = d.decompress(d.unconsumed_tail, chunk)
            if not d.eof:
                raise zlib.error("compressed data ends before the end of the gzip stream (truncated)")
            rest = d.unused_data
            if not rest.strip(b"\0"):  # no further member (trailing zero padding is tolerated)
                break
    except zlib.error as exc:
        raise BadInput(f"{what} is not valid gzip: {exc}",
                       detail={"field": "body", "encoding": "gzip"}) from None
    return b"".join(out)


def parquet_budget_check(metadata: Any, *, what: str = "Parquet upload") -> None:
    """Refuse a Parquet file whose footer declares more rows or uncompressed bytes than allowed.

    ``metadata`` is a ``pyarrow.parquet.FileMetaData``; nothing is decompressed to check it. The
    size is the larger of the row groups' declared sizes and their column chunks' uncompressed
    sizes; the rows the larger of the file's count and the row groups' sum.

    Raises
    ------
    BadInput
        Past ``PRECINCT_MAX_DECOMPRESSED_BYTES`` or ``PRECINCT_MAX_ROWS``.
    """
    budget = DecompressionBudget(what=what)
    groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
    declared = sum(g.total_byte_size for g in groups)
    columns = sum(g.column(j).total_uncompressed_size for g in groups for j in range(g.num_columns))
    rows = max(metadata.num_rows, sum(g.num_rows for g in groups))
    budget.add(nbytes=max(declared, columns), rows=rows)


def _fb_table(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(table position, vtable position, vtable size) of the flatbuffer table at ``pos``."""
    vt = pos - int.from_bytes(buf[pos:pos + 4], "little", signed=True)
    return pos, vt, int.from_bytes(buf[vt:vt + 2], "little")


def _fb_field(buf: bytes, table: tuple[int, int, int], index: int) -> int | None:
    """Absolute position of field ``index`` of a flatbuffer table, or None when absent."""
    pos, vt, vt_size = table
    slot = 4 + 2 * index
    if slot >= vt_size:
        return None
    off = int.from_bytes(buf[vt + slot:vt + slot + 2], "little")
    return pos + off if off else None


def record_batch_size(metadata: bytes, body: bytes) -> tuple[int, int]:
    """(rows, decompressed bytes) of one Arrow IPC record-batch message, read from its flatbuffer
    header and the 8-byte length prefix of each compressed buffer: nothing is decompressed."""
    root = int.from_bytes(metadata[0:4], "little")
    msg = _fb_table(metadata, root)
    header = _fb_field(metadata, msg, 2)
    if header is None:
        raise ValueError("record batch message without a header")
    rb = _fb_table(metadata, header + int.from_bytes(metadata[header:header + 4], "little"))
    length_at = _fb_field(metadata, rb, 0)
    rows = int.from_bytes(metadata[length_at:length_at + 8], "little", signed=True) if length_at else 0
    compressed = _fb_field(metadata, rb, 3) is not None
    total = 0
    buffers_at = _fb_field(metadata, rb, 2)
    if buffers_at is not None:
        vec = buffers_at + int.from_bytes(metadata[buffers_at:buffers_at + 4], "little")
        count = int.from_bytes(metadata[vec:vec + 4], "little")
        for i in range(count):
            entry = vec + 4 + 16 * i
            offset = int.from_bytes(metadata[entry:entry + 8], "little", signed=True)
            length = int.from_bytes(metadata[entry + 8:entry + 16], "little", signed=True)
            if compressed and length >= 8:
                size = int.from_bytes(body[offset:offset + 8], "little", signed=True)
                total += length - 8 if size < 0 else size
            else:
                total += max(length, 0)
    return rows, total


def read_arrow_stream_bounded(data: bytes, *, what: str = "Arrow IPC body") -> Any:
    """The record batches of an Arrow IPC stream as a ``pyarrow.Table``, each batch's rows and
    decompressed size counted from its header against :class:`DecompressionBudget` *before* it is
    decompressed. Streams with dictionary batches are read batch by batch instead (each counted
    once decoded)."""
    import pyarrow as pa

    budget = DecompressionBudget(what=what)
    reader = pa.ipc.MessageReader.open_stream(pa.BufferReader(data))
    try:
        first = reader.read_next_message()
    except StopIteration:
        raise ValueError("empty Arrow IPC stream") from None
    schema = pa.ipc.read_schema(first)
    batches: list[Any] = []
    while True:
        try:
            msg = reader.read_next_message()
        except StopIteration:
            break
        if msg is None:
            break
        if msg.type == "dictionary batch":
            budget = DecompressionBudget(what=what)
            batches = []
            for batch in pa.ipc.open_stream(pa.BufferReader(data)):
                budget.add(nbytes=batch.nbytes, rows=batch.num_rows)
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=schema)
        if msg.type != "record batch":
            continue
        rows, size = record_batch_size(msg.metadata.to_pybytes(), msg.body.to_pybytes() if msg.body else b"")
        budget.add(nbytes=size, rows=rows)
        batches.append(pa.ipc.read_record_batch(msg, schema))
    return pa.Table.from_batches(batches, schema=schema)
