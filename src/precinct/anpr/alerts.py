"""Acknowledging a hotlist alert (issue 21): who took it and when, stored once and audited.

The first acknowledgement stands: a second one (another dispatcher a moment later) changes nothing
and is answered with the first one's who and when. The answer and the live-board event carry no
plate, only the alert's id, its hotlist entry and the acknowledgement; the change is audited as an
``alteration`` of ``anpr.alerts`` with the hotlist entry as its case (as the alert's disclosure is).
"""

from __future__ import annotations

from typing import Any

from precinct.anpr.models import Alert
from precinct.core import audit
from precinct.core.db import Database, utcnow
from precinct.core.roles import AuditAction
from precinct.core.timeutil import to_iso
from precinct.errors import NotFound

ACK_SUBJECT = "anpr.alert_ack"


def ack_view(a: Alert, *, already: bool = False) -> dict[str, Any]:
    """The acknowledgement of ``a`` (no plate)."""
    return {
        "alert_id": a.id,
        "hotlist_id": a.hotlist_id,
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": to_iso(a.acknowledged_at),
        "already": already,
    }


def acknowledge_alert(db: Database, *, alert_id: int, actor: str, role: str) -> dict[str, Any]:
    """Mark alert ``alert_id`` acknowledged by ``actor`` (the first acknowledgement stands).

    Returns
    -------
    dict
        ``alert_id``, ``hotlist_id``, ``acknowledged_by``, ``acknowledged_at`` and ``already``
        (True when someone had acknowledged it before: nothing changed, nothing audited).
    """
    with db.session() as s:
        a = s.get(Alert, alert_id, with_for_update=True)
        if a is None:
            raise NotFound(f"no hotlist alert {alert_id}", detail={"field": "alert_id"})
        if a.acknowledged_at is not None:
            return ack_view(a, already=True)
        a.acknowledged_by, a.acknowledged_at = actor, utcnow()
        audit.append(s, actor=actor, role=role, action=AuditAction.alteration, resource="anpr.alerts",
                     params={"alert_id": a.id, "acknowledged": True}, result_count=1,
                     case_id=f"hotlist:{a.hotlist_id}", purpose="hotlist_alert")
        s.flush()
        return ack_view(a)
