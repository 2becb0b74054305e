"""Routes of 110 intake and incidents: thin routes that check access and call the services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from precinct.city.service import CityLink, city_for
from precinct.command import eido, intake, lifecycle, paging
from precinct.command import incidents as svc
from precinct.command.idempotency import idempotent_reply
from precinct.command.paging import CURSOR_HELP, LIMIT_HELP, MAX_PAGE, IncidentPage
from precinct.command.schemas import (
    CallCreate,
    CallCreated,
    CloseRequest,
    MergeRequest,
    PriorityChange,
)
from precinct.command.types import PRIORITIES, RESPONSE_LEVELS, type_table
from precinct.command.views_common import IdemKey, full_incident, publish_incident
from precinct.core.access import AccessGrant, allow, get_db, personal_data
from precinct.core.identity import Principal
from precinct.core.timeutil import utcnow
from precinct.errors import BadInput

router = APIRouter(tags=["calls"])



@router.get("/incident-types")
def incident_types(principal: Annotated[Principal, allow("incident_types.read")]) -> dict[str, Any]:
    """The incident-type code table (中文 and English names), colours, targets, plans."""
    return {
        "types": type_table(),
        "priorities": [
            {
                "priority": p.value,
                "name_zh": i.name_zh,
                "name_en": i.name_en,
                "dispatch_target_s": i.dispatch_target_s,
                "arrival_target_s": i.arrival_target_s,
                "response_level": i.response_level,
                "response_level_name": RESPONSE_LEVELS[i.response_level],
            }
            for p, i in PRIORITIES.items()
        ],
    }


@router.get("/geocode/suggest")
def geocode_suggest(
    request: Request,
    principal: Annotated[Principal, allow("geocode.suggest")],
    q: Annotated[str, Query(min_length=1, max_length=200, description="part of a street or junction name")],
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> dict[str, Any]:
    """Streets and junctions of the city's road network matching what is typed, best first.

    ``{"candidates": [{"label", "lat", "lon", "score"}]}``; empty without a road network or a match.
    """
    if not q.strip():
        raise BadInput("q: type part of a street or junction name", detail={"field": "q", "reason": "empty"})
    places = city_for(request.app.state).geocode(q, limit=limit)
    return {"candidates": [
        {"label": p.label, "lat": p.lat, "lon": p.lon, "score": round(p.score, 1)} for p in places
    ]}


@router.post(
    "/calls",
    status_code=201,
    response_model=CallCreated,
    responses={
        409: {"description": "Idempotency-Key reused, or merge target closed"},
        422: {"description": "bad field (named in detail)"},
    },
)
def create_call(
    request: Request,
    body: CallCreate,
    principal: Annotated[Principal, allow("calls.create")],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Take a 110 call: 201 only once committed; a repeated Idempotency-Key replays."""
    # The road graph is only needed to resolve an address.
    city = city_for(request.app.state) if body.lat is None else CityLink(None)
    snapshot: dict[str, Any] = {}
    merged: list[bool] = []

    def action(s: Session) -> dict[str, Any]:
        res = intake.create_call(
            s,
            actor=principal.username,
            role=principal.role.value,
            city=city,
            **body.model_dump(exclude_none=True),
        )
        s.flush()
        merged.append(res.merged)
        if res.merged:
            snapshot.update(full_incident(s, res.incident.id))
        else:  # a new incident: no units yet, this one caller (saves two queries)
            snapshot.update(
                svc.incident_view(res.incident, units=[], calls_count=1, masked_phones=[res.call.caller_phone])
            )
        out = CallCreated(
            id=res.call.id,
            incident_id=res.incident.id,
            status=res.incident.status,
            type=res.incident.type,
            priority=res.call.priority,
            lat=res.call.lat,
            lon=res.call.lon,
            address=res.call.address,
            location_source=res.location_source,
            merged=res.merged,
            duplicates=res.duplicates,
        )
        return out.model_dump(mode="json")

    return idempotent_reply(
        get_db(request),
        scope=f"{principal.username}:POST /calls",
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        action=action,
        on_commit=lambda: publish_incident(
            request, "incidents.updated" if any(merged) else "incidents.created", snapshot
        ),
    )


@router.get("/calls/history")
def caller_history(
    grant: Annotated[AccessGrant, personal_data("calls.history")],
    number: Annotated[str, Query(min_length=1, max_length=32, description="the caller's number as typed")],
) -> dict[str, Any]:
    """Repeat-caller history: the calls from ``number`` in the last 30 days, newest first, with each
    incident's type, priority, status and disposition (X-Case-Id, X-Purpose; audited with the number).

    The number is normalised as intake stores it; the answer names it masked but for its last 4 digits.
    """
    with grant.db.session() as s:
        out = intake.caller_history(s, number=number, now=utcnow())
        # the number looked up, as stored, so an auditor can answer "who looked up this caller"
        grant.record(result_count=out["count"], session=s, params={
            "number": intake.phone_number(number, field="number"), "days": out["days"]})
    return out


@router.get("/calls/{call_id}")
def get_call(
    call_id: str,
    grant: Annotated[AccessGrant, personal_data("calls.caller")],
) -> dict[str, Any]:
    """One call with the caller's phone and name (needs X-Case-Id and X-Purpose; audited)."""
    with grant.db.session() as s:
        call = svc.get_call(s, call_id)
        out = svc.call_view(call, with_caller=True)
        grant.record(result_count=1, params={"call_id": call_id, "incident_id": call.incident_id}, session=s)
    return out


@router.get("/incidents/{incident_id}/calls")
def incident_calls(
    incident_id: str,
    grant: Annotated[AccessGrant, personal_data("calls.caller")],
) -> dict[str, Any]:
    """Every call about an incident with callers' details (X-Case-Id, X-Purpose; audited)."""
    with grant.db.session() as s:
        svc.get_incident(s, incident_id)
        calls = [svc.call_view(c, with_caller=True) for c in svc.calls_of(s, incident_id)]
        grant.record(result_count=len(calls), params={"incident_id": incident_id}, session=s)
    return {"calls": calls}


@router.get("/incidents", response_model=IncidentPage)
def list_incidents(
    request: Request,
    principal: Annotated[Principal, allow("incidents.read")],
    status: Annotated[list[str] | None, Query()] = None,
    open: bool = False,
    priority: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description=LIMIT_HELP)] = 200,
    cursor: Annotated[str | None, Query(max_length=512, description=CURSOR_HELP)] = None,
) -> dict[str, Any]:
    """Incidents newest first (caller numbers masked), a page at a time.

    Keyset pagination: follow ``next_cursor`` (pass it as ``cursor``) until it is null.
    """
    with get_db(request).sessionmaker() as s:
        rows, nxt = paging.incidents_page(
            s, limit=limit, cursor=cursor, status=status, open_only=open, priority=priority
        )
        return {"incidents": paging.list_views(s, rows), "next_cursor": nxt}


@router.get("/incidents/{incident_id}")
def get_incident(
    request: Request, incident_id: str, principal: Annotated[Principal, allow("incidents.read")]
) -> dict[str, Any]:
    """One incident with its units, timers and history (caller numbers masked)."""
    with get_db(request).sessionmaker() as s:
        out = full_incident(s, incident_id)
        out["history"] = svc.history(s, incident_id)
        return out


def _change(request: Request, incident_id: str, fn: Any) -> JSONResponse:
    with get_db(request).session() as s:
        fn(s)
        s.flush()
        out = full_incident(s, incident_id)
    publish_incident(request, "incidents.updated", out)
    return JSONResponse(out)  # rendered in this worker thread, not on the event loop


@router.post("/incidents/{incident_id}/priority")
def change_priority(
    request: Request,
    incident_id: str,
    body: PriorityChange,
    principal: Annotated[Principal, allow("incidents.update")],
) -> JSONResponse:
    """Raise or lower the five-colour priority (history records who and why)."""
    return _change(
        request,
        incident_id,
        lambda s: lifecycle.change_priority(
            s,
            incident_id=incident_id,
            priority=body.priority,
            actor=principal.username,
            reason=body.reason,
        ),
    )


@router.post("/incidents/{incident_id}/merge")
def merge(
    request: Request,
    incident_id: str,
    body: MergeRequest,
    principal: Annotated[Principal, allow("incidents.update")],
) -> dict[str, Any]:
    """Merge this (duplicate) incident into another; returns the surviving incident."""
    with get_db(request).session() as s:
        lifecycle.merge_incident(s, incident_id=incident_id, into=body.into, actor=principal.username)
        s.flush()
        gone = full_incident(s, incident_id)
        out = full_incident(s, body.into)
    publish_incident(request, "incidents.updated", gone)
    publish_incident(request, "incidents.updated", out)
    return out


@router.post("/incidents/{incident_id}/close")
def close(
    request: Request,
    incident_id: str,
    body: CloseRequest,
    principal: Annotated[Principal, allow("incidents.command")],
) -> JSONResponse:
    """Close a cleared incident (or a new one handled without units) with a disposition."""
    return _change(
        request,
        incident_id,
        lambda s: lifecycle.close_incident(
            s,
            incident_id=incident_id,
            disposition=body.disposition,
            notes=body.notes,
            actor=principal.username,
        ),
    )


@router.get("/incidents/{incident_id}/eido")
def export_eido(
    request: Request, incident_id: str, principal: Annotated[Principal, allow("incidents.eido")]
) -> dict[str, Any]:
    """The incident as a NENA EIDO document (no caller details)."""
    with get_db(request).sessionmaker() as s:
        return eido.export_incident(s, incident_id=incident_id, actor=principal.username)


@router.post("/incidents/eido", status_code=201)
def import_eido(
    request: Request,
    principal: Annotated[Principal, allow("incidents.eido")],
    document: Annotated[dict[str, Any], Body(description="a NENA EIDO JSON document")],
) -> JSONResponse:
    """Import an incident from a NENA EIDO document (importing it again changes nothing)."""
    with get_db(request).session() as s:
        result = eido.import_document(s, document, actor=principal.username, role=principal.role.value)
        s.flush()
        out = full_incident(s, result.incident_id)
    if result.created:
        publish_incident(request, "incidents.created", out)
    return JSONResponse(
        {
            "incident_id": result.incident_id,
            "created": result.created,
            "warnings": result.warnings,
            "incident": out,
        },
        status_code=201 if result.created else 200,
    )
