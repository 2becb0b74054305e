"""``POST /api/v1/anpr/alerts/{alert_id}/ack``: a hotlist alert acknowledged (issue 21).

Stored once (who, when), audited, and pushed to the other boards as ``anpr.alert_ack`` (the
``anpr.`` family of :mod:`precinct.command.board_policy`: delivered to the roles ``GET /anpr/alerts``
allows, each delivery audited). The answer names no plate.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Request

from precinct.anpr import service
from precinct.core.access import allow, get_db
from precinct.core.identity import Principal
from precinct.core.params import RowId

log = logging.getLogger("precinct.anpr")
router = APIRouter(tags=["anpr"])


@router.post("/anpr/alerts/{alert_id}/ack")
def acknowledge_alert(
    alert_id: RowId,
    request: Request,
    principal: Annotated[Principal, allow("anpr.alerts.ack")],
) -> dict[str, Any]:
    """Acknowledge a hotlist alert: the first acknowledgement stands (``already`` says a later one
    changed nothing); the other boards see it live."""
    out = service.acknowledge_alert(get_db(request), alert_id=alert_id, actor=principal.username,
                                    role=principal.role.value)
    bus = getattr(request.app.state, "bus", None)
    if bus is not None and not out["already"]:
        try:  # committed already: a bus hiccup must not turn the acknowledgement into an error
            bus.publish(service.ACK_SUBJECT, {"subject": service.ACK_SUBJECT, "sent_at": time.time(), **out})
        except Exception:
            log.warning("could not publish %s", service.ACK_SUBJECT, exc_info=True)
    return out
