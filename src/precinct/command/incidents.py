"""Call intake and the incident lifecycle outside dispatch: create, reprioritise, merge, close.

Services take a session and keyword-only arguments, change nothing until everything is checked,
and leave committing (and publishing events) to the caller.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.calls.citylink import CityLink
from precinct.calls.common import dumps, haversine_m, iso, mask_phone, new_id, normalize_phone
from precinct.calls.models import Call, Incident, IncidentEvent
from precinct.calls.schemas import Duplicate
from precinct.calls.types import (
    INCIDENT_TYPES,
    PRIORITIES,
    IncidentType,
    Priority,
    get_type,
    related,
)
from precinct.core import audit
from precinct.core.db import utcnow
from precinct.core.roles import AuditAction
from precinct.errors import BadInput, Conflict, NotFound

OPEN_STATUSES = ("new", "dispatched", "en_route", "on_scene")
BOARD_STATUSES = (*OPEN_STATUSES, "cleared")
TERMINAL_STATUSES = ("closed", "merged")
DUPLICATE_RADIUS_M = 400.0
DUPLICATE_WINDOW_S = 30 * 60
CALLER_RESOURCE = "calls.caller"
GEOCODE_MIN_SCORE = 60.0


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


def check_coordinates(lat: float | None, lon: float | None, *, field_prefix: str = "") -> None:
    """422 naming the field when a coordinate is missing, not finite or out of range."""
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if value is None or not math.isfinite(value) or abs(value) > bound:
            raise BadInput(
                f"{field_prefix}{name}: must be a number within ±{bound:g} degrees",
                detail={"field": f"{field_prefix}{name}", "reason": "out of range"},
            )


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
    found = []
    for iid, itype, status, ilat, ilon, created in rows:
        if ilat is None or ilon is None or not related(type_code, itype):
            continue
        dist = haversine_m(lat, lon, ilat, ilon)
        if dist <= radius_m:
            found.append(
                Duplicate(
                    incident_id=iid,
                    type=itype,
                    status=status,
                    distance_m=round(dist, 1),
                    age_s=round((now - created).total_seconds(), 1),
                )
            )
    return sorted(found, key=lambda d: (d.type != type_code, d.distance_m))


def record_event(
    session: Session,
    incident: Incident,
    *,
    kind: str,
    actor: str,
    to_status: str | None = None,
    unit_id: str | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> IncidentEvent:
    """Append to the incident's history; moves its status when ``to_status`` is given."""
    now = now or utcnow()
    ev = IncidentEvent(
        incident_id=incident.id,
        ts=now,
        kind=kind,
        from_status=incident.status,
        to_status=to_status,
        unit_id=unit_id,
        actor=actor,
        detail=dumps(detail or {}),
    )
    if to_status is not None and to_status != incident.status:
        incident.status = to_status
        stamp = {
            "dispatched": "dispatched_at",
            "en_route": "en_route_at",
            "on_scene": "on_scene_at",
            "cleared": "cleared_at",
            "closed": "closed_at",
        }.get(to_status)
        if stamp and getattr(incident, stamp) is None:
            setattr(incident, stamp, now)
    incident.updated_at = now
    session.add(ev)
    return ev


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
        Incident-type code (:data:`precinct.calls.types.INCIDENT_TYPES`).
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
    phone = normalize_phone(caller_phone)
    if phone is not None and not (3 <= len(phone) <= 20 and phone.lstrip("+").isdigit()):
        raise BadInput(
            "caller_phone: must be 3-20 digits (optionally a leading +)",
            detail={"field": "caller_phone", "reason": "not a phone number"},
        )
    if merge_into is not None:
        incident = session.get(Incident, merge_into)
        if incident is None:
            raise BadInput(
                f"merge_into: no incident {merge_into!r}",
                detail={"field": "merge_into", "reason": "unknown incident"},
            )
        if incident.status in TERMINAL_STATUSES:
            raise Conflict(
                f"merge_into: incident {merge_into} is {incident.status}",
                detail={"field": "merge_into", "reason": f"incident {incident.status}"},
            )
        duplicates: list[Duplicate] = []
    else:
        duplicates = find_duplicates(session, type_code=itype.code, lat=rlat, lon=rlon, now=now)
        incident = Incident(
            id=new_id("INC", now),
            type=itype.code,
            category=itype.category,
            priority=prio.value,
            status="new",
            lat=rlat,
            lon=rlon,
            address=raddress,
            summary=description[:500],
            source=source,
            created_by=actor,
            created_at=received if source == "import" else now,
            updated_at=now,
        )
        session.add(incident)
        session.flush()  # the call row references it
    call = Call(
        id=new_id("CALL", now),
        incident_id=incident.id,
        external_id=external_id,
        received_at=received,
        caller_phone=phone,
        caller_name=caller_name,
        lat=rlat,
        lon=rlon,
        address=raddress,
        type=itype.code,
        priority=prio.value,
        description=description,
        created_by=actor,
    )
    session.add(call)
    session.flush()
    if merge_into is not None:
        record_event(session, incident, kind="call_added", actor=actor, now=now, detail={"call_id": call.id})
    else:
        record_event(
            session,
            incident,
            kind="created",
            actor=actor,
            to_status="new",
            now=now,
            detail={
                "call_id": call.id,
                "type": itype.code,
                "priority": prio.value,
                "duplicates": [d.incident_id for d in duplicates],
            },
        )
    audit.append(
        session,
        actor=actor,
        role=role,
        action=AuditAction.collection,
        resource=CALLER_RESOURCE,
        params={
            "call_id": call.id,
            "incident_id": incident.id,
            "phone": phone is not None,
            "name": caller_name is not None,
            "source": source,
        },
        result_count=1,
        case_id=incident.id,
        purpose="incident_response",
    )
    return CallResult(
        call=call,
        incident=incident,
        merged=merge_into is not None,
        duplicates=duplicates,
        location_source=loc_source,
    )


def get_incident(session: Session, incident_id: str, *, field: str | None = None) -> Incident:
    """The incident, or 404 (or 422 naming ``field`` when the id came in a body)."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        if field:
            raise BadInput(
                f"{field}: no incident {incident_id!r}",
                detail={"field": field, "reason": "unknown"},
            )
        raise NotFound(f"no incident {incident_id!r}", detail={"field": "incident_id"})
    return incident


def timers(incident: Incident, now: dt.datetime) -> dict[str, Any]:
    """Elapsed times against the colour's dispatch and arrival targets; overdue or not."""
    info = PRIORITIES[Priority(incident.priority)]
    start = incident.created_at
    age = (now - start).total_seconds()
    dispatch_s = (incident.dispatched_at - start).total_seconds() if incident.dispatched_at else None
    arrival_s = (incident.on_scene_at - start).total_seconds() if incident.on_scene_at else None
    overdue = None
    if incident.status in TERMINAL_STATUSES or incident.status == "cleared":
        overdue = None
    elif incident.dispatched_at is None and age > info.dispatch_target_s:
        overdue = "dispatch"
    elif incident.on_scene_at is None and incident.dispatched_at is not None and age > info.arrival_target_s:
        overdue = "arrival"
    return {
        "age_s": round(age, 1),
        "dispatch_target_s": info.dispatch_target_s,
        "arrival_target_s": info.arrival_target_s,
        "time_to_dispatch_s": dispatch_s,
        "time_to_arrival_s": arrival_s,
        "overdue": overdue is not None,
        "overdue_stage": overdue,
    }


def incident_view(
    incident: Incident,
    *,
    now: dt.datetime | None = None,
    units: list[dict[str, Any]] | None = None,
    calls_count: int | None = None,
    masked_phones: list[str | None] | None = None,
) -> dict[str, Any]:
    """JSON for boards and lists: no caller details (masked phone numbers at most)."""
    now = now or utcnow()
    itype = INCIDENT_TYPES.get(incident.type)
    out: dict[str, Any] = {
        "id": incident.id,
        "type": incident.type,
        "type_name_zh": itype.name_zh if itype else None,
        "type_name_en": itype.name_en if itype else None,
        "category": incident.category,
        "priority": incident.priority,
        "status": incident.status,
        "lat": incident.lat,
        "lon": incident.lon,
        "address": incident.address,
        "summary": incident.summary,
        "source": incident.source,
        "merged_into": incident.merged_into,
        "disposition": incident.disposition,
        "created_by": incident.created_by,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "dispatched_at": iso(incident.dispatched_at),
        "en_route_at": iso(incident.en_route_at),
        "on_scene_at": iso(incident.on_scene_at),
        "cleared_at": iso(incident.cleared_at),
        "closed_at": iso(incident.closed_at),
        "timers": timers(incident, now),
    }
    if units is not None:
        out["units"] = units
    if calls_count is not None:
        out["calls_count"] = calls_count
    if masked_phones is not None:
        out["callers"] = [mask_phone(p) for p in masked_phones]
    return out


def calls_count(session: Session, incident_ids: list[str]) -> dict[str, int]:
    if not incident_ids:
        return {}
    rows = session.execute(
        select(Call.incident_id, func.count()).where(Call.incident_id.in_(incident_ids)).group_by(Call.incident_id)
    ).all()
    return {iid: n for iid, n in rows}


def caller_phones(session: Session, incident_id: str) -> list[str | None]:
    return list(
        session.scalars(
            select(Call.caller_phone).where(Call.incident_id == incident_id).order_by(Call.received_at)
        ).all()
    )


def call_view(call: Call, *, with_caller: bool) -> dict[str, Any]:
    """A call as JSON; caller details only when ``with_caller`` (a purpose-bound, audited read)."""
    out = {
        "id": call.id,
        "incident_id": call.incident_id,
        "external_id": call.external_id,
        "received_at": iso(call.received_at),
        "lat": call.lat,
        "lon": call.lon,
        "address": call.address,
        "type": call.type,
        "priority": call.priority,
        "description": call.description,
        "created_by": call.created_by,
    }
    if with_caller:
        out["caller_phone"] = call.caller_phone
        out["caller_name"] = call.caller_name
    else:
        out["caller_phone"] = mask_phone(call.caller_phone)
    return out


def get_call(session: Session, call_id: str) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"no call {call_id!r}", detail={"field": "call_id"})
    return call


def calls_of(session: Session, incident_id: str) -> list[Call]:
    return list(session.scalars(select(Call).where(Call.incident_id == incident_id).order_by(Call.received_at)).all())


def history(session: Session, incident_id: str) -> list[dict[str, Any]]:
    """The incident's timestamped transitions and notes, oldest first."""
    import json

    rows = session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)
    ).all()
    return [
        {
            "ts": iso(e.ts),
            "kind": e.kind,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "unit_id": e.unit_id,
            "actor": e.actor,
            "detail": json.loads(e.detail),
        }
        for e in rows
    ]


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
    from precinct.dispatch.models import Assignment

    active = session.scalar(
        select(func.count())
        .select_from(Assignment)
        .where(
            Assignment.incident_id == source.id,
            Assignment.status.in_(("dispatched", "en_route", "on_scene")),
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
