"""The hash-chained audit log (the 督 backbone).

Each record carries the SHA-256 of its own canonical content and of its predecessor, so editing,
deleting, inserting or reordering any record breaks the chain at that point. Records are appended
inside the caller's transaction: a change and its audit record commit together, and a read's
record commits before the read's results are returned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from precinct.core.models import AuditHead, AuditRecord
from precinct.errors import AuditFailure

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq", "ts", "actor", "role", "action", "resource", "params",
    "result_count", "case_id", "purpose", "outcome", "prev_hash",
)


_LOG = cast(Table, AuditRecord.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_HEAD_FOR_UPDATE = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_HEAD_UPDATE = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def canonical_params(params: dict[str, Any] | None) -> str:
    """Stable JSON for query parameters (sorted keys, no whitespace, non-JSON values as strings)."""
    return json.dumps(params or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


_CONTROL = dict.fromkeys(range(32), "\ufffd")
FIELD_SEP = "\x1f"
NULL = "\x1e"  # U+001E: a control character, so never in stored text (and PostgreSQL-safe)


def clean(value: str) -> str:
    """Replace control characters, so the field separator and NULL marker cannot occur in text."""
    return value.translate(_CONTROL)


def encode_fields(fields: Iterable[Any]) -> bytes:
    """The hashed byte string: fields in ``HASHED_FIELDS`` order, joined by U+001F, None as U+001E.

    Unambiguous because no stored text contains a control character (``clean`` on append; the
    params JSON escapes them). Simple to re-implement in any language for an external check.
    """
    return FIELD_SEP.join(NULL if v is None else str(v) for v in fields).encode("utf-8")


def record_hash(fields: Iterable[Any]) -> str:
    """SHA-256 (hex) of ``encode_fields(fields)``."""
    return hashlib.sha256(encode_fields(fields)).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    resource: str,
    params: dict[str, Any] | None = None,
    result_count: int | None = None,
    case_id: str | None = None,
    purpose: str | None = None,
    outcome: str = "ok",
    at: dt.datetime | None = None,
) -> AuditRecord:
    """Append one record to the chain inside ``session``'s transaction.

    Raises
    ------
    AuditFailure
        If the record cannot be written; the caller's transaction must then fail too.
    """
    try:
        # Core statements, not the ORM unit of work: this runs in every audited request
        head = session.execute(_HEAD_FOR_UPDATE).one()
        ts = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
        values: dict[str, Any] = {
            "seq": head.seq + 1, "ts": ts, "actor": clean(actor), "role": clean(str(role)), "action": str(action),
            "resource": clean(resource), "params": canonical_params(params), "result_count": result_count,
            "case_id": clean(case_id) if case_id is not None else None,
            "purpose": clean(str(purpose)) if purpose is not None else None,
            "outcome": clean(outcome), "prev_hash": head.hash,
        }
        values["hash"] = record_hash(values[f] for f in HASHED_FIELDS)
        session.execute(insert(_LOG), [values])
        session.execute(_HEAD_UPDATE, {"new_seq": values["seq"], "new_hash": values["hash"]})
        return AuditRecord(**values)
    except SQLAlchemyError as exc:
        raise AuditFailure("the audit record could not be written; the request was not carried out",
                           detail=type(exc).__name__) from exc


def append_many(session: Session, records: list[dict[str, Any]], *, at: dt.datetime | None = None) -> int:
    """Append several records (each the keyword arguments of :func:`append`) in order, with one
    lock of the chain's head, one multi-row insert and one head update; returns how many.

    Raises
    ------
    AuditFailure
        If the records cannot be written; the caller's transaction must then fail too.
    """
    if not records:
        return 0
    try:
        head = session.execute(_HEAD_FOR_UPDATE).one()
        ts = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
        seq, prev = head.seq, head.hash
        rows: list[dict[str, Any]] = []
        for r in records:
            seq += 1
            case_id, purpose = r.get("case_id"), r.get("purpose")
            values: dict[str, Any] = {
                "seq": seq, "ts": ts, "actor": clean(r["actor"]), "role": clean(str(r["role"])),
                "action": str(r["action"]), "resource": clean(r["resource"]),
                "params": canonical_params(r.get("params")), "result_count": r.get("result_count"),
                "case_id": clean(case_id) if case_id is not None else None,
                "purpose": clean(str(purpose)) if purpose is not None else None,
                "outcome": clean(r.get("outcome", "ok")), "prev_hash": prev,
            }
            values["hash"] = prev = record_hash(values[f] for f in HASHED_FIELDS)
            rows.append(values)
        session.execute(insert(_LOG), rows)
        session.execute(_HEAD_UPDATE, {"new_seq": seq, "new_hash": prev})
        return len(rows)
    except SQLAlchemyError as exc:
        raise AuditFailure("the audit records could not be written; the request was not carried out",
                           detail=type(exc).__name__) from exc


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _Segment:
    """What one worker found in a contiguous range of sequence numbers."""

    first_prev_hash: str | None
    last_hash: str | None
    last_seq: int
    checked: int
    bad_seq: int | None = None
    reason: str | None = None


_NULLABLE = {"result_count", "case_id", "purpose"}
# The database builds each record's hashed string itself (the same encoding as encode_fields), so
# the verifier's per-row Python work is one SHA-256 and two comparisons.
_PAYLOAD = " || :sep || ".join(
    f"COALESCE(CAST({c} AS TEXT), :null)" if c in _NULLABLE else f"CAST({c} AS TEXT)" for c in HASHED_FIELDS)


def _check_segment(url: str, lo: int, hi: int | None, batch: int = 20_000) -> _Segment:
    """Check records with lo <= seq < hi: contiguous, each hash right, each linked to the previous."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        return _check_rows(engine, lo, hi, batch)
    finally:
        engine.dispose()


def _check_rows(engine: Engine, lo: int, hi: int | None, batch: int,
                progress: Callable[[int], None] | None = None) -> _Segment:
    sha = hashlib.sha256
    where = "seq >= :lo" + (" AND seq < :hi" if hi is not None else "")
    # assembled from constants (the payload expression, the range condition); values are bound
    sql = f"SELECT seq, prev_hash, hash, {_PAYLOAD} FROM audit_log WHERE {where} ORDER BY seq"  # noqa: S608 - constant text
    first_prev: str | None = None
    prev_hash: str | None = None
    expected, checked = lo, 0
    with engine.connect() as conn:
        # the raw DB-API cursor: SQLAlchemy's row objects cost more than the hashing
        dbapi = conn.connection.driver_connection
        cur = dbapi.cursor()  # type: ignore[union-attr]
        params = {"lo": lo, "hi": hi, "sep": FIELD_SEP, "null": NULL}
        if engine.dialect.name != "sqlite":  # psycopg's named placeholders
            for name in params:
                sql = sql.replace(f":{name}", f"%({name})s")
        cur.execute(sql, params)
        while rows := cur.fetchmany(batch):
            for row in rows:
                seq = row[0]
                if seq != expected:
                    kind = "missing (deleted)" if seq > expected else "out of order"
                    return _Segment(first_prev, prev_hash, expected - 1, checked, expected,
                                    f"record {expected} {kind}: found seq {seq}")
                if prev_hash is None:
                    first_prev = row[1]
                elif row[1] != prev_hash:
                    return _Segment(first_prev, prev_hash, seq - 1, checked, seq,
                                    f"record {seq} does not link to record {seq - 1}")
                if sha(row[3].encode("utf-8")).hexdigest() != row[2]:
                    return _Segment(first_prev, prev_hash, seq - 1, checked, seq,
                                    f"record {seq} content does not match its hash")
                prev_hash, expected = row[2], seq + 1
                checked += 1
            if progress is not None:
                progress(checked)
        cur.close()
    return _Segment(first_prev, prev_hash, expected - 1, checked)


def verify(engine: Engine, *, progress: Callable[[int], None] | None = None, batch: int = 20_000,
           workers: int = 1, min_parallel: int = 100_000) -> VerifyResult:
    """Walk the whole chain in order and report the first record that does not fit.

    Catches an edited field (hash mismatch), a deleted or inserted record (sequence gap or broken
    link), reordering (links) and a truncated tail (the head no longer matches the last record).
    With ``workers > 1`` contiguous ranges are checked in parallel processes and stitched at the
    boundaries; the answer is the same as a single pass.
    """
    with engine.connect() as conn:
        bounds = conn.execute(text("SELECT MIN(seq), MAX(seq), COUNT(*) FROM audit_log")).first()
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    max_seq = bounds[1] if bounds and bounds[1] is not None else 0
    top = max(max_seq, head_seq)
    if workers > 1 and top >= min_parallel:
        import concurrent.futures as cf
        import multiprocessing as mp

        url = engine.url.render_as_string(hide_password=False)
        edges = [1 + (top * i) // workers for i in range(workers)] + [None]
        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            segments = list(pool.map(_check_segment, [url] * workers, edges[:-1], edges[1:]))
        if progress is not None:
            progress(sum(s.checked for s in segments))
    else:
        segments = [_check_rows(engine, 1, None, batch, progress)]
    prev_hash, checked = GENESIS_HASH, 0
    for seg in segments:
        if seg.checked and seg.first_prev_hash != prev_hash:
            first = seg.last_seq - seg.checked + 1
            return VerifyResult(False, checked, first, f"record {first} does not link to record {first - 1}")
        if seg.bad_seq is not None:
            return VerifyResult(False, checked + seg.checked, seg.bad_seq, seg.reason)
        checked += seg.checked
        if seg.checked:
            prev_hash = seg.last_hash or prev_hash
    last_seq = segments[-1].last_seq if segments else 0
    if head_seq != checked or head_hash != prev_hash or last_seq != checked:
        return VerifyResult(False, checked, checked + 1,
                            f"chain ends at record {checked} but its head says {head_seq}: "
                            "records after it were deleted")
    return VerifyResult(True, checked)


def verify_from(engine: Engine, *, after_seq: int, after_hash: str, batch: int = 20_000) -> VerifyResult:
    """Check only the records after a trusted point (``after_seq`` with hash ``after_hash``, such as a
    signed checkpoint): each is intact, contiguous, and the first links to ``after_hash``.

    ``checked`` counts the records after the point. Used to extend the anchored chain without
    re-reading all of it.
    """
    with engine.connect() as conn:
        at = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": after_seq}).first()
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    if after_seq > 0 and (at is None or at[0] != after_hash):
        found = "missing" if at is None else "has another hash"
        return VerifyResult(False, 0, after_seq, f"record {after_seq} {found}: it no longer matches the checkpoint")
    seg = _check_rows(engine, after_seq + 1, None, batch)
    if seg.checked and seg.first_prev_hash != after_hash:
        return VerifyResult(False, 0, after_seq + 1, f"record {after_seq + 1} does not link to record {after_seq}")
    if seg.bad_seq is not None:
        return VerifyResult(False, seg.checked, seg.bad_seq, seg.reason)
    head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    last_hash = seg.last_hash if seg.checked else after_hash
    if head_seq != after_seq + seg.checked or head_hash != last_hash:
        return VerifyResult(False, seg.checked, after_seq + seg.checked + 1,
                            f"chain ends at record {after_seq + seg.checked} but its head says {head_seq}")
    return VerifyResult(True, seg.checked)
