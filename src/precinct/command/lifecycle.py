"""An incident's lifecycle outside dispatch: reprioritise, merge a duplicate, close.

Services take a session and keyword-only arguments, change nothing until everything is checked,
and leave committing (and publishing events) to the caller.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.command.incidents import (
    ACTIVE_ASSIGNMENT,
    TERMINAL_STATUSES,
    get_incident,
    record_event,
)
from precinct.command.models import Assignment, Call, Incident
from precinct.command.types import Priority
from precinct.errors import BadInput, Conflict


def change_priority(
    session: Session, *, incident_id: str, priority: Priority | str, actor: str, reason: str = ""
) -> Incident:
    """Raise or lower an open incident's colour (the response plan follows it)."""
    incident = get_incident(session, incident_id)
    if incident.status in TERMINAL_STATUSES:
        raise Conflict(
            f"incident {incident_id} is {incident.status}; its priority cannot change",
            detail={"field": "priority", "reason": f"incident {incident.status}"},
        )
    new = Priority(priority)
    old = incident.priority
    incident.priority = new.value
    record_event(
        session,
        incident,
        kind="priority_changed",
        actor=actor,
        detail={"from": old, "to": new.value, "reason": reason},
    )
    return incident


def merge_incident(session: Session, *, incident_id: str, into: str, actor: str) -> Incident:
    """Merge a duplicate into another open incident: its calls move, it ends as ``merged``."""
    if incident_id == into:
        raise BadInput(
            "into: an incident cannot be merged into itself",
            detail={"field": "into", "reason": "same"},
        )
    source = get_incident(session, incident_id)
    target = get_incident(session, into, field="into")
    for inc, name in ((source, "incident"), (target, "into")):
        if inc.status in TERMINAL_STATUSES:
            raise Conflict(
                f"{name}: incident {inc.id} is {inc.status}",
                detail={"field": name, "reason": f"incident {inc.status}"},
            )
    active = session.scalar(
        select(func.count())
        .select_from(Assignment)
        .where(
            Assignment.incident_id == source.id,
            Assignment.status.in_(ACTIVE_ASSIGNMENT),
        )
    )
    if active:
        raise Conflict(
            f"incident {source.id} still has {active} unit(s) assigned; clear them first",
            detail={"field": "incident_id", "reason": "units assigned"},
        )
    moved = session.execute(select(Call).where(Call.incident_id == source.id)).scalars().all()
    for call in moved:
        call.incident_id = target.id
    source.merged_into = target.id
    record_event(
        session,
        source,
        kind="merged",
        actor=actor,
        to_status="merged",
        detail={"into": target.id, "calls": [c.id for c in moved]},
    )
    record_event(
        session,
        target,
        kind="merged_in",
        actor=actor,
        detail={"from": source.id, "calls": [c.id for c in moved]},
    )
    return target


def close_incident(session: Session, *, incident_id: str, disposition: str, notes: str = "", actor: str) -> Incident:
    """Close an incident: after its units cleared, or straight from ``new`` (handled by phone)."""
    incident = get_incident(session, incident_id)
    if incident.status in ("dispatched", "en_route", "on_scene"):
        raise Conflict(
            f"incident {incident_id} is {incident.status}: clear its units before closing",
            detail={"field": "status", "reason": f"cannot close from {incident.status}"},
        )
    if incident.status in TERMINAL_STATUSES:
        raise Conflict(
            f"incident {incident_id} is already {incident.status}",
            detail={"field": "status", "reason": f"cannot close from {incident.status}"},
        )
    incident.disposition = disposition
    incident.disposition_text = notes or None
    record_event(
        session,
        incident,
        kind="closed",
        actor=actor,
        to_status="closed",
        detail={"disposition": disposition},
    )
    return incident
