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
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from precinct.core.models import AuditHead, AuditRecord
from precinct.errors import AuditFailure

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq", "ts", "actor", "role", "action", "resource", "params",
    "result_count", "case_id", "purpose", "outcome", "prev_hash",
)


def canonical_params(params: dict[str, Any] | None) -> str:
    """Stable JSON for query parameters (sorted keys, no whitespace, non-JSON values as strings)."""
    return json.dumps(params or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(fields: Iterable[Any]) -> str:
    """SHA-256 over the canonical JSON array of the hashed fields, in ``HASHED_FIELDS`` order."""
    payload = json.dumps(list(fields), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
        head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
        if head is None:
            head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
            session.add(head)
            session.flush()
        ts = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="microseconds")
        rec = AuditRecord(
            seq=head.seq + 1, ts=ts, actor=actor, role=str(role), action=str(action),
            resource=resource, params=canonical_params(params), result_count=result_count,
            case_id=case_id, purpose=str(purpose) if purpose is not None else None,
            outcome=outcome, prev_hash=head.hash,
        )
        rec.hash = record_hash(getattr(rec, f) for f in HASHED_FIELDS)
        session.add(rec)
        head.seq, head.hash = rec.seq, rec.hash
        session.flush()
        return rec
    except SQLAlchemyError as exc:
        raise AuditFailure("the audit record could not be written; the request was not carried out",
                           detail=type(exc).__name__) from exc


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify(engine: Engine, *, progress: Callable[[int], None] | None = None, batch: int = 20_000) -> VerifyResult:
    """Walk the whole chain in order and report the first record that does not fit.

    Catches an edited field (hash mismatch), a deleted or inserted record (sequence gap or broken
    link), reordering (links) and a truncated tail (the head no longer matches the last record).
    """
    cols = ", ".join(HASHED_FIELDS) + ", hash"
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    sha = hashlib.sha256
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            text(f"SELECT {cols} FROM audit_log ORDER BY seq")  # noqa: S608 - constant column list
        )
        for row in result:
            seq = row[0]
            if seq != expected_seq:
                kind = "missing (deleted)" if seq > expected_seq else "duplicated or inserted"
                return VerifyResult(False, checked, expected_seq if seq > expected_seq else seq,
                                    f"record {expected_seq} {kind}: found seq {seq}")
            if row[11] != prev_hash:
                return VerifyResult(False, checked, seq, f"record {seq} does not link to record {seq - 1}")
            if sha(dumps(list(row[:12])).encode("utf-8")).hexdigest() != row[12]:
                return VerifyResult(False, checked, seq, f"record {seq} content does not match its hash")
            prev_hash, expected_seq = row[12], seq + 1
            checked += 1
            if progress is not None and checked % batch == 0:
                progress(checked)
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    head_seq, head_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    if head_seq != expected_seq - 1 or head_hash != prev_hash:
        return VerifyResult(False, checked, expected_seq,
                            f"chain ends at record {expected_seq - 1} but its head says {head_seq}: "
                            "records after it were deleted")
    return VerifyResult(True, checked)
