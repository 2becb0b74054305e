"""One history table for alerts and bulletins: who drafted, approved, refused, corrected, withdrew."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core.db import utcnow
from precinct.public.models import PublicHistory


def record(session: Session, *, kind: str, object_id: str, action: str, actor: str,
           detail: dict[str, Any] | None = None, at: dt.datetime | None = None) -> None:
    """Append one history entry in the caller's transaction (at ``at``, default now)."""
    session.add(PublicHistory(object_kind=kind, object_id=object_id, ts=at or utcnow(), action=action, actor=actor,
                              detail=json.dumps(detail or {}, ensure_ascii=False, default=str)))


def history(session: Session, *, kind: str, object_id: str) -> list[dict[str, Any]]:
    """The entries of one object, oldest first."""
    rows = session.scalars(select(PublicHistory).where(PublicHistory.object_kind == kind,
                                                       PublicHistory.object_id == object_id)
                           .order_by(PublicHistory.id))
    return [{"ts": r.ts.isoformat(), "action": r.action, "actor": r.actor, "detail": json.loads(r.detail)}
            for r in rows]
