"""Units: their description, status and latest position, and the available ones nearest a point.

Whether a unit is available is changed by dispatch (:mod:`precinct.command.dispatch`); here a unit
is created or described, takes itself out of service or back, and reports its position.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.command.common import check_coordinates
from precinct.command.models import Unit
from precinct.command.types import UnitType
from precinct.core.identity import Principal
from precinct.core.roles import Role
from precinct.core.timeutil import to_iso, utcnow
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
        "position_at": to_iso(unit.position_at),
        "active": unit.active,
        "status_since": to_iso(unit.status_since),
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
    """Store a unit's latest position (older fixes than the stored one are ignored).

    Positions are shared only on duty: a unit out of service (off duty) is refused (409).
    """
    check_coordinates(lat, lon)
    when = (ts or utcnow()).astimezone(dt.UTC)
    unit = get_unit(session, unit_id)
    if unit.status == "out_of_service":
        raise Conflict(
            f"unit {unit_id} is off duty (out_of_service): positions are shared only on duty",
            detail={"field": "unit_id", "reason": "off duty"},
        )
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
