"""Audit review: filtered reads of the audit log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core.models import AuditRecord


def list_records(
    session: Session, *, actor: str | None = None, action: str | None = None,
    case_id: str | None = None, outcome: str | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None,
    before_seq: int | None = None, limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first; ``before_seq`` pages backwards."""
    q = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)
    if actor:
        q = q.where(AuditRecord.actor == actor)
    if action:
        q = q.where(AuditRecord.action == action)
    if case_id:
        q = q.where(AuditRecord.case_id == case_id)
    if outcome:
        q = q.where(AuditRecord.outcome == outcome)
    if since:
        q = q.where(AuditRecord.ts >= since.astimezone(dt.UTC).isoformat(timespec="microseconds"))
    if until:
        q = q.where(AuditRecord.ts < until.astimezone(dt.UTC).isoformat(timespec="microseconds"))
    if before_seq:
        q = q.where(AuditRecord.seq < before_seq)
    return [
        {"seq": r.seq, "ts": r.ts, "actor": r.actor, "role": r.role, "action": r.action,
         "resource": r.resource, "params": json.loads(r.params), "result_count": r.result_count,
         "case_id": r.case_id, "purpose": r.purpose, "outcome": r.outcome, "hash": r.hash}
        for r in session.scalars(q)
    ]
