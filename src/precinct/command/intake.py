"""110 call intake: a call is checked, located, compared with open incidents nearby, then either
opens an incident or is attached to one (both through :mod:`precinct.command.incidents`).

Services take a session and keyword-only arguments, change nothing until everything is checked,
and leave committing (and publishing events) to the caller.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.city.service import CityLink, haversine_m
from precinct.command.common import check_coordinates, new_id, normalize_phone
from precinct.command.incidents import (
    CALLER_RESOURCE,
    OPEN_STATUSES,
    NewCall,
    attach_call,
    audit_collection,
    open_incident,
)
from precinct.command.models import Call, Incident
from precinct.command.schemas import Duplicate
from precinct.command.types import IncidentType, Priority, get_type, related
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput

DUPLICATE_RADIUS_M = 400.0
DUPLICATE_WINDOW_S = 30 * 60
GEOCODE_MIN_SCORE = 60.0
HISTORY_DAYS = 30
HISTORY_ROWS = 50
__all__ = ["CALLER_RESOURCE", "CallResult", "caller_history", "check_coordinates", "create_call",
           "find_duplicates", "phone_number", "require_type", "resolve_location"]


@dataclass
class CallResult:
    """What :func:`create_call` made: the call, its incident, and open incidents nearby."""

    call: Call
    incident: Incident
    merged: bool
    duplicates: list[Duplicate]
    location_source: str


def require_type(code: str, field: str = "type") -> IncidentType:
    """The incident type for ``code``, or a 422 naming the field."""
    itype = get_type(code)
    if itype is None:
        raise BadInput(
            f"{field}: unknown incident type {code!r}; see GET /api/v1/incident-types",
            detail={"field": field, "reason": "unknown incident type", "value": code},
        )
    return itype


def resolve_location(
    city: CityLink, *, lat: float | None, lon: float | None, address: str | None
) -> tuple[float, float, str | None, str]:
    """Coordinates for a call: given, or resolved from a street / junction name.

    Returns ``(lat, lon, address, source)`` where ``source`` is ``"coordinates"`` or
    ``"geocoded"``. An address that matches nothing well enough is a 422 naming ``address``.
    """
    if lat is not None and lon is not None:
        check_coordinates(lat, lon)
        return lat, lon, address, "coordinates"
    if not address:
        raise BadInput(
            "lat: a location is needed (lat and lon, or an address)",
            detail={"field": "lat", "reason": "missing"},
        )
    places = city.geocode(address)
    if city.city is None:
        raise BadInput(
            "address: no city road network is loaded to resolve addresses; give lat and lon",
            detail={"field": "address", "reason": "no road network"},
        )
    best = places[0] if places else None
    if best is None or best.score < GEOCODE_MIN_SCORE:
        raise BadInput(
            f"address: no street or junction matches {address!r}",
            detail={
                "field": "address",
                "reason": "not found",
                "candidates": [p.label for p in places[:5]],
            },
        )
    return best.lat, best.lon, best.label or address, "geocoded"


def find_duplicates(
    session: Session,
    *,
    type_code: str,
    lat: float,
    lon: float,
    now: dt.datetime,
    radius_m: float = DUPLICATE_RADIUS_M,
    window_s: float = DUPLICATE_WINDOW_S,
) -> list[Duplicate]:
    """Open incidents of a related type within ``radius_m`` and ``window_s``, nearest first."""
    dlat = radius_m / 111_000.0
    dlon = radius_m / (111_000.0 * max(0.1, math.cos(math.radians(lat))))
    since = now - dt.timedelta(seconds=window_s)
    rows = session.execute(
        select(
            Incident.id,
            Incident.type,
            Incident.status,
            Incident.lat,
            Incident.lon,
            Incident.created_at,
        ).where(
            Incident.status.in_(OPEN_STATUSES),
            Incident.created_at >= since,
            Incident.lat.between(lat - dlat, lat + dlat),
            Incident.lon.between(lon - dlon, lon + dlon),
        )
    ).all()
    near = [r for r in rows if r.lat is not None and r.lon is not None and related(type_code, r.type)]
    dist = haversine_m(lat, lon, np.array([r.lat for r in near]), np.array([r.lon for r in near]))
    found = [
        Duplicate(
            incident_id=r.id,
            type=r.type,
            status=r.status,
            distance_m=round(float(d), 1),
            age_s=round((now - r.created_at).total_seconds(), 1),
        )
        for r, d in zip(near, dist, strict=True)
        if d <= radius_m
    ]
    return sorted(found, key=lambda d: (d.type != type_code, d.distance_m))


def phone_number(text: str | None, *, field: str) -> str | None:
    """A caller's number as intake stores it (:func:`normalize_phone`), or a 422 naming ``field``."""
    phone = normalize_phone(text)
    if phone is not None and not (3 <= len(phone) <= 20 and phone.lstrip("+").isdigit()):
        raise BadInput(
            f"{field}: must be 3-20 digits (optionally a leading +)",
            detail={"field": field, "reason": "not a phone number"},
        )
    return phone


def last4(phone: str) -> str:
    """A number masked but for its last four digits: ``13812345678`` becomes ``*******5678``."""
    return "*" * max(0, len(phone) - 4) + phone[-4:]


def caller_history(
    session: Session, *, number: str, now: dt.datetime, days: int = HISTORY_DAYS, limit: int = HISTORY_ROWS
) -> dict[str, Any]:
    """The calls from ``number`` in the ``days`` before ``now``, newest first (repeat-caller history).

    The number is normalised as :func:`create_call` stores it, so ``138-1234 5678`` finds calls
    taken as ``13812345678``. Personal data: the view reads it under a case and purpose and audits
    the number looked up.

    Returns
    -------
    dict
        ``{"number_masked", "days", "since", "count", "calls": [{"call_id", "incident_id",
        "received_at", "type", "priority", "status", "disposition"}]}``; ``count`` is every call in
        the window, ``calls`` at most ``limit`` of them.
    """
    phone = phone_number(number, field="number")
    if phone is None:
        raise BadInput("number: give the caller's number", detail={"field": "number", "reason": "empty"})
    since = now - dt.timedelta(days=days)
    where = (Call.caller_phone == phone, Call.received_at >= since, Call.received_at <= now)
    count = session.scalar(select(func.count()).select_from(Call).where(*where)) or 0
    rows = session.execute(
        select(Call.id, Call.incident_id, Call.received_at, Incident.type, Incident.priority, Incident.status,
               Incident.disposition)
        .join(Incident, Incident.id == Call.incident_id)
        .where(*where)
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(limit)
    ).all()
    return {
        "number_masked": last4(phone),
        "days": days,
        "since": to_iso(since),
        "count": int(count),
        "calls": [
            {"call_id": r.id, "incident_id": r.incident_id, "received_at": to_iso(r.received_at), "type": r.type,
             "priority": r.priority, "status": r.status, "disposition": r.disposition}
            for r in rows
        ],
    }


def create_call(
    session: Session,
    *,
    actor: str,
    role: str,
    city: CityLink,
    type: str,
    lat: float | None = None,
    lon: float | None = None,
    address: str | None = None,
    priority: Priority | str | None = None,
    caller_phone: str | None = None,
    caller_name: str | None = None,
    description: str = "",
    received_at: dt.datetime | None = None,
    merge_into: str | None = None,
    external_id: str | None = None,
    source: str = "call",
) -> CallResult:
    """Record a 110 call and open its incident (or attach it to ``merge_into``).

    The caller's details are personal data: their collection is audited in the same transaction.

    Parameters
    ----------
    session
        Open transaction; the caller commits.
    actor, role
        Who takes the call (audited).
    city
        For resolving ``address`` when no coordinates are given.
    type
        Incident-type code (:data:`precinct.command.types.INCIDENT_TYPES`).
    priority
        Five-colour priority; defaults to the type's.
    merge_into
        An open incident this call reports too; no new incident is opened.

    Returns
    -------
    CallResult
        With open incidents nearby of a related type offered as ``duplicates``.
    """
    itype = require_type(type)
    try:
        prio = Priority(priority) if priority is not None else itype.priority
    except ValueError:
        raise BadInput(
            f"priority: unknown colour {priority!r}",
            detail={"field": "priority", "reason": "one of red, orange, yellow, blue, green"},
        ) from None
    now = utcnow()
    received = (received_at or now).astimezone(dt.UTC)
    rlat, rlon, raddress, loc_source = resolve_location(city, lat=lat, lon=lon, address=address)
    phone = phone_number(caller_phone, field="caller_phone")
    new_call = NewCall(
        id=new_id("CALL", now),
        received_at=received,
        lat=rlat,
        lon=rlon,
        address=raddress,
        caller_phone=phone,
        caller_name=caller_name,
        description=description,
        external_id=external_id,
    )
    if merge_into is not None:
        target = session.get(Incident, merge_into)
        if target is None:
            raise BadInput(
                f"merge_into: no incident {merge_into!r}",
                detail={"field": "merge_into", "reason": "unknown incident"},
            )
        incident = target
        duplicates: list[Duplicate] = []
        call = attach_call(session, incident, new_call, actor=actor, now=now)
    else:
        duplicates = find_duplicates(session, type_code=itype.code, lat=rlat, lon=rlon, now=now)
        opened = open_incident(
            session,
            actor=actor,
            type=itype.code,
            priority=prio.value,
            lat=rlat,
            lon=rlon,
            address=raddress,
            summary=description,
            source=source,
            created_at=received if source == "import" else now,
            calls=[new_call],
            now=now,
            detail={
                "call_id": new_call.id,
                "type": itype.code,
                "priority": prio.value,
                "duplicates": [d.incident_id for d in duplicates],
            },
        )
        incident, call = opened.incident, opened.calls[0]
    audit_collection(
        session,
        actor=actor,
        role=role,
        params={
            "call_id": call.id,
            "incident_id": incident.id,
            "phone": phone is not None,
            "name": caller_name is not None,
            "source": source,
        },
        result_count=1,
        case_id=incident.id,
    )
    return CallResult(
        call=call,
        incident=incident,
        merged=merge_into is not None,
        duplicates=duplicates,
        location_source=loc_source,
    )
