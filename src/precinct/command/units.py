"""Units, positions and the dispatch state machine (dispatched → en route → on scene → cleared).

Incident status follows its units: the first dispatch makes it ``dispatched``, the first
acknowledgement ``en_route``, the first arrival ``on_scene``, and when the last unit clears it is
``cleared`` (a dispatcher then closes it). Anything else is a 409 naming the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from precinct.calls.common import iso
from precinct.calls.models import Incident
from precinct.calls.service import TERMINAL_STATUSES, check_coordinates, get_incident, record_event
from precinct.calls.types import UnitType
from precinct.core.db import utcnow
from precinct.core.identity import Principal
from precinct.core.roles import Role
from precinct.dispatch.models import Assignment, Unit
from precinct.errors import BadInput, Conflict, Forbidden, NotFound

ACTIVE = ("dispatched", "en_route", "on_scene")
UNIT_STATUSES = ("available", "dispatched", "en_route", "on_scene", "out_of_service")


def unit_view(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.id,
        "callsign": unit.callsign,
        "unit_type": unit.unit_type,
        "station": unit.station,
        "group": unit.group_name,
        "status": unit.status,
        "incident_id": unit.incident_id,
        "lat": unit.lat,
        "lon": unit.lon,
        "position_at": iso(unit.position_at),
        "active": unit.active,
    }


def assignment_view(a: Assignment) -> dict[str, Any]:
    return {
        "unit_id": a.unit_id,
        "status": a.status,
        "eta_s": a.eta_s,
        "dispatched_by": a.dispatched_by,
        "dispatched_at": iso(a.dispatched_at),
        "acknowledged_at": iso(a.acknowledged_at),
        "arrived_at": iso(a.arrived_at),
        "cleared_at": iso(a.cleared_at),
    }


def upsert_unit(
    session: Session,
    *,
    id: str,
    unit_type: UnitType | str = UnitType.patrol,
    callsign: str | None = None,
    station: str | None = None,
    group: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> Unit:
    """Create a unit, or update its description (status and assignment are kept)."""
    try:
        utype = UnitType(unit_type)
    except ValueError:
        raise BadInput(
            f"unit_type: unknown unit type {unit_type!r}",
            detail={"field": "unit_type", "reason": "one of " + ", ".join(UnitType)},
        ) from None
    if (lat is None) != (lon is None):
        raise BadInput("lat: give both lat and lon or neither", detail={"field": "lat", "reason": "pair"})
    if lat is not None:
        check_coordinates(lat, lon)
    now = utcnow()
    unit = session.get(Unit, id)
    if unit is None:
        unit = Unit(
            id=id,
            callsign=callsign or id,
            unit_type=utype.value,
            station=station,
            group_name=group,
            status="available",
            active=True,
            updated_at=now,
        )
        session.add(unit)
    else:
        unit.callsign = callsign or unit.callsign
        unit.unit_type = utype.value
        unit.station = station if station is not None else unit.station
        unit.group_name = group if group is not None else unit.group_name
        unit.updated_at = now
    if lat is not None:
        unit.lat, unit.lon, unit.position_at = lat, lon, now
    session.flush()
    return unit


def get_unit(session: Session, unit_id: str, *, field: str | None = None) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None or not unit.active:
        if field:
            raise BadInput(
                f"{field}: unknown unit {unit_id!r}",
                detail={"field": field, "reason": "unknown unit"},
            )
        raise NotFound(f"no unit {unit_id!r}", detail={"field": "unit_id"})
    return unit


def check_own_unit(principal: Principal, unit_id: str) -> None:
    """A patrol device may act only for its own unit; dispatchers and supervisors for any."""
    if principal.role is Role.patrol and principal.unit_id != unit_id:
        raise Forbidden(
            f"patrol user {principal.username} acts for unit {principal.unit_id}, not {unit_id}",
            detail={"field": "unit_id", "reason": "not your unit"},
        )


def post_position(session: Session, *, unit_id: str, lat: float, lon: float, ts: dt.datetime | None = None) -> Unit:
    """Store a unit's latest position (older fixes than the stored one are ignored)."""
    check_coordinates(lat, lon)
    when = (ts or utcnow()).astimezone(dt.UTC)
    unit = get_unit(session, unit_id)
    if unit.position_at is None or when >= unit.position_at:
        unit.lat, unit.lon, unit.position_at = lat, lon, when
    return unit


def set_unit_status(session: Session, *, unit_id: str, status: str) -> Unit:
    """Take a unit out of service or back (not while it is assigned)."""
    unit = get_unit(session, unit_id)
    if status not in ("available", "out_of_service"):
        raise BadInput(
            "status: must be available or out_of_service",
            detail={"field": "status", "reason": "value"},
        )
    if unit.status in ACTIVE:
        raise Conflict(
            f"unit {unit_id} is {unit.status} on {unit.incident_id}; clear it first",
            detail={"field": "status", "reason": f"unit {unit.status}"},
        )
    unit.status = status
    unit.updated_at = utcnow()
    return unit


def list_units(
    session: Session,
    *,
    status: str | None = None,
    unit_type: str | None = None,
    station: str | None = None,
) -> list[Unit]:
    q = select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)
    if status:
        q = q.where(Unit.status == status)
    if unit_type:
        q = q.where(Unit.unit_type == unit_type)
    if station:
        q = q.where(Unit.station == station)
    return list(session.scalars(q).all())


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
            .values(status="dispatched", incident_id=incident.id, updated_at=now)
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
        unit.status, unit.incident_id, unit.updated_at = status, incident_id, now
