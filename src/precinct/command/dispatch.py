"""The dispatch state machine: units sent to incidents (dispatched → en route → on scene → cleared).

Incident status follows its units: the first dispatch makes it ``dispatched``, the first
acknowledgement ``en_route``, the first arrival ``on_scene``, and when the last unit clears it is
``cleared`` (a dispatcher then closes it). Anything else is a 409 naming the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from precinct.command.incidents import TERMINAL_STATUSES, get_incident, record_event
from precinct.command.models import Assignment, Incident, Unit
from precinct.command.units import ACTIVE, get_unit
from precinct.config import get_settings
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput, Conflict


def assignment_view(a: Assignment, *, now: dt.datetime | None = None) -> dict[str, Any]:
    # not acknowledged within PRECINCT_ACK_LATE_S of dispatch: late (the board shows it)
    due = a.dispatched_at + dt.timedelta(seconds=get_settings().ack_late_s) if a.dispatched_at else None
    waiting = a.status == "dispatched" and a.acknowledged_at is None and due is not None
    return {
        "unit_id": a.unit_id,
        "status": a.status,
        "eta_s": a.eta_s,
        "dispatched_by": a.dispatched_by,
        "dispatched_at": to_iso(a.dispatched_at),
        "acknowledged_at": to_iso(a.acknowledged_at),
        "ack_due_at": to_iso(due) if waiting else None,
        "late": bool(waiting and due is not None and (now or utcnow()) > due),
        "arrived_at": to_iso(a.arrived_at),
        "cleared_at": to_iso(a.cleared_at),
    }


def assignments_of(session: Session, incident_id: str) -> list[Assignment]:
    return list(
        session.scalars(select(Assignment).where(Assignment.incident_id == incident_id).order_by(Assignment.id)).all()
    )


def dispatch_units(
    session: Session,
    *,
    incident_id: str,
    unit_ids: list[str],
    actor: str,
    eta_s: dict[str, float] | None = None,
) -> list[Assignment]:
    """Send available units to an open incident. All-or-nothing: one bad unit and none is sent.

    Raises
    ------
    BadInput
        An unknown unit (names ``unit_ids[i]``) or the same unit twice.
    Conflict
        The incident is cleared, closed or merged, or a unit is not available.
    """
    incident = get_incident(session, incident_id)
    if incident.status in (*TERMINAL_STATUSES, "cleared"):
        raise Conflict(
            f"incident {incident_id} is {incident.status}; units cannot be sent",
            detail={"field": "incident_id", "reason": f"incident {incident.status}"},
        )
    if len(set(unit_ids)) != len(unit_ids):
        raise BadInput("unit_ids: a unit is listed twice", detail={"field": "unit_ids", "reason": "duplicate"})
    now = utcnow()
    units = [get_unit(session, uid, field=f"unit_ids[{i}]") for i, uid in enumerate(unit_ids)]
    for i, unit in enumerate(units):
        if unit.status != "available":
            where = f" on {unit.incident_id}" if unit.incident_id else ""
            raise Conflict(
                f"unit_ids[{i}]: unit {unit.id} is {unit.status}{where}",
                detail={"field": f"unit_ids[{i}]", "reason": f"unit {unit.status}"},
            )
    made = []
    for unit in units:
        # Guarded update: two dispatchers racing for one unit cannot both get it.
        result: Any = session.execute(
            update(Unit)
            .where(Unit.id == unit.id, Unit.status == "available")
            .values(status="dispatched", incident_id=incident.id, updated_at=now, status_since=now)
            .execution_options(synchronize_session=False)
        )
        claimed = result.rowcount
        if claimed != 1:
            raise Conflict(
                f"unit {unit.id} was just dispatched elsewhere",
                detail={"field": "unit_ids", "reason": "unit taken"},
            )
        session.refresh(unit)
        a = Assignment(
            incident_id=incident.id,
            unit_id=unit.id,
            status="dispatched",
            eta_s=(eta_s or {}).get(unit.id),
            dispatched_by=actor,
            dispatched_at=now,
        )
        session.add(a)
        made.append(a)
        to = "dispatched" if incident.status == "new" else None
        record_event(
            session,
            incident,
            kind="dispatched",
            actor=actor,
            to_status=to,
            unit_id=unit.id,
            now=now,
            detail={"eta_s": a.eta_s},
        )
    session.flush()
    return made


def _active_assignment(session: Session, incident: Incident, unit_id: str) -> Assignment:
    a = session.scalar(
        select(Assignment).where(
            Assignment.incident_id == incident.id,
            Assignment.unit_id == unit_id,
            Assignment.status.in_(ACTIVE),
        )
    )
    if a is None:
        if incident.dispatched_at is None:
            raise Conflict(
                f"incident {incident.id} was never dispatched",
                detail={"field": "unit_id", "reason": "incident never dispatched"},
            )
        raise Conflict(
            f"unit {unit_id} is not assigned to incident {incident.id}",
            detail={"field": "unit_id", "reason": "unit not assigned"},
        )
    return a


def acknowledge(session: Session, *, incident_id: str, unit_id: str, actor: str) -> Assignment:
    """The unit accepts the dispatch and is on its way (dispatched → en route)."""
    incident = get_incident(session, incident_id)
    a = _active_assignment(session, incident, unit_id)
    if a.status != "dispatched":
        raise Conflict(
            f"unit {unit_id} is already {a.status}",
            detail={"field": "unit_id", "reason": f"assignment {a.status}"},
        )
    now = utcnow()
    a.status, a.acknowledged_at = "en_route", now
    _set_unit(session, unit_id, "en_route", incident.id, now)
    to = "en_route" if incident.status == "dispatched" else None
    record_event(session, incident, kind="acknowledged", actor=actor, to_status=to, unit_id=unit_id, now=now)
    return a


def arrive(session: Session, *, incident_id: str, unit_id: str, actor: str) -> Assignment:
    """The unit is on scene (from dispatched or en route)."""
    incident = get_incident(session, incident_id)
    a = _active_assignment(session, incident, unit_id)
    if a.status == "on_scene":
        raise Conflict(f"unit {unit_id} is already on scene", detail={"field": "unit_id", "reason": "on scene"})
    now = utcnow()
    a.acknowledged_at = a.acknowledged_at or now
    a.status, a.arrived_at = "on_scene", now
    _set_unit(session, unit_id, "on_scene", incident.id, now)
    to = "on_scene" if incident.status in ("dispatched", "en_route") else None
    record_event(session, incident, kind="arrived", actor=actor, to_status=to, unit_id=unit_id, now=now)
    return a


def clear(session: Session, *, incident_id: str, unit_id: str | None, actor: str, note: str = "") -> list[Assignment]:
    """A unit (or, without ``unit_id``, every unit) leaves the incident and is available again.

    When no unit remains the incident is ``cleared``. Clearing one never dispatched is a 409.
    """
    incident = get_incident(session, incident_id)
    if incident.dispatched_at is None:
        raise Conflict(
            f"incident {incident_id} was never dispatched; there is nothing to clear",
            detail={"field": "incident_id", "reason": "incident never dispatched"},
        )
    if unit_id is not None:
        targets = [_active_assignment(session, incident, unit_id)]
    else:
        targets = [a for a in assignments_of(session, incident_id) if a.status in ACTIVE]
        if not targets:
            raise Conflict(
                f"incident {incident_id} has no unit assigned",
                detail={"field": "unit_id", "reason": "no unit assigned"},
            )
    now = utcnow()
    for a in targets:
        a.status, a.cleared_at = "cleared", now
        _set_unit(session, a.unit_id, "available", None, now)
        record_event(
            session,
            incident,
            kind="unit_cleared",
            actor=actor,
            unit_id=a.unit_id,
            now=now,
            detail={"note": note} if note else None,
        )
    session.flush()
    remaining = [a for a in assignments_of(session, incident_id) if a.status in ACTIVE]
    if not remaining:
        record_event(session, incident, kind="cleared", actor=actor, to_status="cleared", now=now)
    return targets


def _set_unit(session: Session, unit_id: str, status: str, incident_id: str | None, now: dt.datetime) -> None:
    unit = session.get(Unit, unit_id)
    if unit is not None:
        changed = unit.status != status
        unit.status, unit.incident_id, unit.updated_at = status, incident_id, now
        if changed:
            unit.status_since = now  # the step's own time (the model's listener took the clock's)
