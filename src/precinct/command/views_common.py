"""What the command domain's routes share: the Idempotency-Key header, board-safe incident views
and event publishing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Request
from sqlalchemy.orm import Session

from precinct.command import incidents
from precinct.command.common import publish
from precinct.command.dispatch import assignment_view, assignments_of
from precinct.command.models import Unit
from precinct.command.units import unit_view

IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", description="retry-safe request key")]


def full_incident(session: Session, incident_id: str) -> dict[str, Any]:
    """An incident with its units, call count and masked caller numbers (board-safe)."""
    inc = incidents.get_incident(session, incident_id)
    units = [assignment_view(a) for a in assignments_of(session, inc.id)]
    phones = incidents.caller_phones(session, inc.id)
    return incidents.incident_view(inc, units=units, calls_count=len(phones), masked_phones=phones)


def publish_incident(request: Request, subject: str, incident: dict[str, Any]) -> None:
    publish(request.app.state.bus, subject, {"incident_id": incident["id"], "incident": incident})


def unit_views(session: Session, unit_ids: list[str]) -> list[dict[str, Any]]:
    """Views of units the change just touched (already in the session: no query), to publish once
    the change has committed."""
    units = (session.get(Unit, uid) for uid in unit_ids)
    return [unit_view(u) for u in units if u is not None]


def publish_units(request: Request, views: list[dict[str, Any]]) -> None:
    for view in views:
        publish(request.app.state.bus, "units.updated", {"unit_id": view["id"], "unit": view})
