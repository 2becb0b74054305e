"""Retention of callback comments (run by ``precinct retention run``).

What a caller said at a callback is kept for supervision for :data:`COMMENT_DAYS` days after the
callback, then erased (the outcome and score stay: they are what the statistics count). The erasure
is audited (AuditAction.erasure) in the same transaction: if the audit record cannot be written,
nothing is erased.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from precinct.config import Settings
from precinct.core import audit
from precinct.core.db import Database
from precinct.core.roles import AuditAction
from precinct.public.models import PublicCallback

COMMENT_DAYS = 180


def run(*, db: Database, settings: Settings, now: dt.datetime, actor: str) -> list[dict[str, Any]]:
    """Erase callback comments older than :data:`COMMENT_DAYS` days; one summary row."""
    cutoff = now - dt.timedelta(days=COMMENT_DAYS)
    with db.session() as s:
        result = s.execute(update(PublicCallback).where(PublicCallback.done_at < cutoff,
                                                        PublicCallback.comment.is_not(None))
                           .values(comment=None))
        erased = int(getattr(result, "rowcount", 0) or 0)
        audit.append(s, actor=actor, role="system", action=AuditAction.erasure, resource="public.callbacks",
                     params={"cutoff": cutoff.isoformat(), "retention_days": COMMENT_DAYS, "field": "comment"},
                     result_count=erased)
    return [{"resource": "public.callbacks", "erased": erased, "kept": 0, "cutoff": cutoff.isoformat()}]
