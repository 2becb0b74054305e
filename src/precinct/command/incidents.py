"""Incidents: the one place an incident is opened and a call attached, its history and views
(reprioritise, merge and close are in :mod:`precinct.command.lifecycle`).

Every incident is opened by :func:`open_incident`, whether from a 110 call
(:func:`precinct.command.intake.create_call`), a calls CSV (:func:`precinct.command.flows.import_calls`)
or an EIDO document (:func:`precinct.command.eido_import.import_document`); a further call about an
open incident is attached by :func:`attach_call`.

Services take a session and keyword-only arguments, change nothing until everything is checked,
and leave committing (and publishing events) to the caller.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.command.common import dumps, mask_phone, new_id
from precinct.command.models import Call, Incident, IncidentEvent
from precinct.command.types import INCIDENT_TYPES, PRIORITIES, Priority
from precinct.core import audit
from precinct.core.roles import AuditAction
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput, Conflict, NotFound

OPEN_STATUSES = ("new", "dispatched", "en_route", "on_scene")
BOARD_STATUSES = (*OPEN_STATUSES, "cleared")
TERMINAL_STATUSES = ("closed", "merged")
ACTIVE_ASSIGNMENT = ("dispatched", "en_route", "on_scene")
CALLER_RESOURCE = "calls.caller"


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


@dataclass(frozen=True)
class NewCall:
    """A call to store with the incident it reports (checked by the caller; ``id`` made if None)."""

    received_at: dt.datetime
    lat: float | None
    lon: float | None
    address: str | None = None
    caller_phone: str | None = None
    caller_name: str | None = None
    description: str = ""
    external_id: str | None = None
    id: str | None = None


def _call_row(incident: Incident, call: NewCall, *, actor: str, now: dt.datetime) -> Call:
    return Call(
        id=call.id or new_id("CALL", now),
        incident_id=incident.id,
        external_id=call.external_id,
        received_at=call.received_at,
        caller_phone=call.caller_phone,
        caller_name=call.caller_name,
        lat=call.lat,
        lon=call.lon,
        address=call.address,
        type=incident.type,
        priority=incident.priority,
        description=call.description,
        created_by=actor,
    )


@dataclass(frozen=True)
class NewIncident:
    """The rows that open an incident: the incident, its calls and its first history event."""

    incident: Incident
    calls: list[Call]
    event: IncidentEvent


def open_incident(
    session: Session | None,
    *,
    actor: str,
    type: str,
    priority: str,
    lat: float | None,
    lon: float | None,
    calls: Sequence[NewCall],
    source: str,
    created_at: dt.datetime,
    address: str | None = None,
    summary: str = "",
    status: str = "new",
    disposition: str | None = None,
    external_id: str | None = None,
    kind: str = "created",
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> NewIncident:
    """Open an incident with the calls that report it, and record its first history event.

    The one place an incident comes into being (110 intake, calls CSV, EIDO import). Auditing
    the callers' details (:func:`audit_collection`) is the caller's, once per call or per batch.

    Parameters
    ----------
    session
        Open transaction (the caller commits); None only makes the rows, for a bulk import that
        adds the incidents of a batch, flushes, then adds their calls and events.
    actor
        Who opens it (history, ``created_by``).
    type, priority
        Checked incident-type code and five-colour priority.
    lat, lon, address
        Where (an EIDO document may carry no coordinates).
    calls
        The calls reporting it (ids are made here), oldest first.
    source
        ``call``, ``import`` or ``eido``.
    created_at
        The incident's time (now for live intake; the call's time for imported history).
    status, disposition
        ``new``; imported history is opened ``closed`` with a disposition.
    external_id
        Another system's identifier (EIDO tracking id), unique.
    kind, detail
        The first history event (``created`` or ``imported``) and what it records.
    now
        Time of the change (default: now).

    Returns
    -------
    NewIncident
        The rows (stored and flushed when a session was given).
    """
    now = now or utcnow()
    itype = INCIDENT_TYPES[type]
    incident = Incident(
        id=new_id("INC", created_at if source == "import" else now),
        type=itype.code,
        category=itype.category,
        priority=priority,
        status=status,
        lat=lat,
        lon=lon,
        address=address,
        summary=summary[:500],
        source=source,
        external_id=external_id,
        created_by=actor,
        created_at=created_at,
        updated_at=now,
        closed_at=now if status == "closed" else None,
        disposition=disposition,
    )
    rows = [_call_row(incident, c, actor=actor, now=created_at if source == "import" else now) for c in calls]
    event = IncidentEvent(
        incident_id=incident.id,
        ts=now,
        kind=kind,
        from_status=None,
        to_status=status,
        actor=actor,
        detail=dumps(detail or {}),
    )
    made = NewIncident(incident, rows, event)
    if session is not None:
        session.add(incident)
        session.flush()  # the call rows reference it
        session.add_all([*rows, event])
        session.flush()
    return made


def attach_call(
    session: Session, incident: Incident, call: NewCall, *, actor: str, now: dt.datetime | None = None
) -> Call:
    """Attach a further call to an open incident (history: ``call_added``).

    Raises
    ------
    Conflict
        The incident is closed or merged (field ``merge_into``).
    """
    if incident.status in TERMINAL_STATUSES:
        raise Conflict(
            f"merge_into: incident {incident.id} is {incident.status}",
            detail={"field": "merge_into", "reason": f"incident {incident.status}"},
        )
    now = now or utcnow()
    row = _call_row(incident, call, actor=actor, now=now)
    session.add(row)
    session.flush()
    record_event(session, incident, kind="call_added", actor=actor, now=now, detail={"call_id": row.id})
    return row


def audit_collection(
    session: Session, *, actor: str, role: str, params: dict[str, Any], result_count: int,
    case_id: str | None = None,
) -> None:
    """Audit the collection of callers' details (in the change's transaction)."""
    audit.append(
        session,
        actor=actor,
        role=role,
        action=AuditAction.collection,
        resource=CALLER_RESOURCE,
        params=params,
        result_count=result_count,
        case_id=case_id,
        purpose="incident_response",
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
        "created_at": to_iso(incident.created_at),
        "updated_at": to_iso(incident.updated_at),
        "dispatched_at": to_iso(incident.dispatched_at),
        "en_route_at": to_iso(incident.en_route_at),
        "on_scene_at": to_iso(incident.on_scene_at),
        "cleared_at": to_iso(incident.cleared_at),
        "closed_at": to_iso(incident.closed_at),
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
        "received_at": to_iso(call.received_at),
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
    rows = session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id)
    ).all()
    return [
        {
            "ts": to_iso(e.ts),
            "kind": e.kind,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "unit_id": e.unit_id,
            "actor": e.actor,
            "detail": json.loads(e.detail),
        }
        for e in rows
    ]
