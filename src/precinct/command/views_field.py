"""What the patrol terminal (``/m/``) asks besides the dispatch steps: the road route from a unit's
position to the incident it is sent to, on Precinct's own road network."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from precinct.city.service import city_for
from precinct.command import attachments as att
from precinct.command import incidents as incidents_svc
from precinct.command import units
from precinct.core.access import allow, get_db
from precinct.core.identity import Principal
from precinct.errors import BadInput, Conflict

router = APIRouter(tags=["dispatch"])


@router.get("/incidents/{incident_id}/route", responses={404: {"description": "no such incident (for you)"},
                                                         409: {"description": "the unit has no position"}})
def route_to_incident(
    request: Request,
    incident_id: str,
    principal: Annotated[Principal, allow("dispatch.route")],
    unit_id: Annotated[str | None, Query(max_length=64, description="the unit (a patrol device: its own)")] = None,
) -> dict[str, Any]:
    """The fastest road route from the unit's last position to the incident: length (m), time (s)
    and the path as ``[[lat, lon], ...]``."""
    uid = unit_id or principal.unit_id
    if uid is None:
        raise BadInput("unit_id: name the unit", detail={"field": "unit_id", "reason": "missing"})
    units.check_own_unit(principal, uid)
    with get_db(request).sessionmaker() as s:
        att.check_incident_access(s, principal, incident_id)
        inc = incidents_svc.get_incident(s, incident_id)
        unit = units.get_unit(s, uid)
        origin, at = (unit.lat, unit.lon), unit.position_at
        target = (inc.lat, inc.lon)
    if origin[0] is None or origin[1] is None:
        raise Conflict(f"unit {uid} has no position yet", detail={"field": "unit_id", "reason": "no position"})
    if target[0] is None or target[1] is None:
        raise Conflict(f"incident {incident_id} has no location", detail={"field": "incident_id",
                                                                        "reason": "no location"})
    city = city_for(request.app.state).require()
    route = city.route((float(origin[0]), float(origin[1])), (float(target[0]), float(target[1])))
    return {"incident_id": incident_id, "unit_id": uid, "from": [origin[0], origin[1]],
            "position_at": at.isoformat() if at else None, "to": [target[0], target[1]], **route.to_dict()}
