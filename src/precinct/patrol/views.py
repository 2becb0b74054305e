"""Patrol API: posts, zones, risk grids, checkpoints (with one-click orders), missing-person areas.

Deployment planning from aggregated demand is not personal data (role check only); the
missing-person search is purpose-bound and audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from precinct.command import service as command_service
from precinct.core.access import AccessGrant, allow, get_db, get_settings_dep, personal_data, refuse
from precinct.core.identity import Principal
from precinct.core.policy import rule_for
from precinct.errors import BadInput
from precinct.patrol import service
from precinct.patrol.demand import Points, points_from_rows

router = APIRouter(tags=["patrol"])


class LatLon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class DemandPoint(LatLon):
    weight: float | None = Field(default=None, ge=0)
    priority: str | None = None
    ts: str | None = None


class PostsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    demand: list[DemandPoint] = Field(min_length=1, max_length=200_000)
    posts: int = Field(ge=1, le=500)
    objective: Literal["pcenter", "pmedian", "mclp"] = "pcenter"
    minutes: float | None = Field(default=None, gt=0, le=240)
    candidates: list[LatLon] | None = Field(default=None, max_length=5000)
    current_posts: list[LatLon] | None = Field(default=None, max_length=5000)
    hour: int | None = Field(default=None, ge=0, le=23)
    time_limit_s: float = Field(default=60, gt=0, le=600)
    keep_current: bool = Field(default=False, description="p-median: keep current_posts, add `posts` new ones")
    capacity: float | None = Field(default=None, gt=0, description="p-median: workload (demand weight) per post")
    backup_red: bool = Field(default=False, description="p-median: two posts within backup_minutes of every "
                                                        "demand point in a red risk cell")
    backup_minutes: float | None = Field(default=None, gt=0, le=240)
    cutoff_minutes: float | None = Field(default=None, gt=0, le=240,
                                         description="p-median: sparse travel-time cutoff (hard limit)")


class ZonesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    posts: list[LatLon] = Field(min_length=1, max_length=500)
    demand: list[DemandPoint] | None = None
    balance: bool = False
    segments: bool = True


class RiskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incidents: list[DemandPoint] = Field(min_length=1, max_length=1_000_000)
    resolution: int = Field(default=8, ge=5, le=11)
    window_days: float = Field(default=28, gt=0, le=366)
    half_life_days: float | None = Field(default=14, gt=0)
    now: dt.datetime | None = None
    whole_city: bool = Field(default=True, description="rate every cell of the city (zero-incident cells green)")


class UnitIn(LatLon):
    id: str = Field(min_length=1, max_length=64)


class CheckpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    seen_at: dt.datetime
    now: dt.datetime | None = None
    units: list[UnitIn] = Field(min_length=1, max_length=500)
    k: int = Field(default=6, ge=1, le=100)
    mode: Literal["vehicle", "foot"] = "vehicle"
    heading_deg: float | None = Field(default=None, ge=0, lt=360)
    horizon_min: float = Field(default=15, gt=0, le=120)
    dispatch_delay_s: float = Field(default=60, ge=0, le=1800)
    setup_s: float = Field(default=60, ge=0, le=1800)
    evaluate: bool = True
    deadline_min: float = Field(default=5, gt=0, le=120)
    issue: bool = Field(default=False, description="also issue the orders (一键下达) through the orders module")
    incident_id: str | None = Field(default=None, max_length=40)


class PlaceIn(LatLon):
    id: str = Field(min_length=1, max_length=128)
    name: str = Field(default="", max_length=200)
    kind: str = Field(default="camera", max_length=32)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    seen_at: dt.datetime
    now: dt.datetime | None = None
    speed_mps: float = Field(default=service.WALK_MPS, gt=0, le=5)
    step_min: float = Field(default=15, gt=0, le=240)
    ahead_min: float = Field(default=60, ge=0, le=24 * 60)
    places: list[PlaceIn] = Field(default_factory=list, max_length=20_000)


def _points(rows: list[DemandPoint] | list[LatLon]) -> Points:
    return points_from_rows([{k: "" if v is None else str(v) for k, v in r.model_dump().items()} for r in rows],
                            source="body")


def _city(request: Request) -> Any:
    from precinct.city.service import current_city

    return current_city(get_settings_dep(request))


@router.post("/patrol/posts", responses={504: {"description": "no plan within the time limit (detail: best bound)"}})
def posts(body: PostsRequest, request: Request,
          principal: Annotated[Principal, allow("patrol.posts")]) -> dict[str, Any]:
    """Choose patrol posts (九宫格布警术) and compare with the current ones (map layer + chart data).

    ``status`` / ``optimal`` / ``gap`` say whether the plan is proven optimal; a time limit without
    any plan answers 504 ``solver_timeout`` with the best bound.
    """
    red = None
    if body.backup_red:
        from precinct.patrol.planning import red_cells

        with get_db(request).sessionmaker() as s:
            red = red_cells(s)
    return service.plan_posts(graph=_city(request), demand=_points(body.demand), posts=body.posts,
                              objective=body.objective, minutes=body.minutes,
                              candidates=_points(body.candidates) if body.candidates else None,
                              current=_points(body.current_posts) if body.current_posts else None,
                              hour=body.hour, time_limit=body.time_limit_s, keep_current=body.keep_current,
                              capacity=body.capacity, backup_cells=red, backup_minutes=body.backup_minutes,
                              cutoff_minutes=body.cutoff_minutes)


@router.post("/patrol/zones")
def zones(body: ZonesRequest, request: Request,
          principal: Annotated[Principal, allow("patrol.zones")]) -> dict[str, Any]:
    """Patrol zones (network Voronoi), optionally balanced."""
    return service.plan_zones(graph=_city(request), posts=_points(body.posts),
                              demand=_points(body.demand) if body.demand else None, balance=body.balance,
                              segments=body.segments)


@router.post("/patrol/risk-grid")
def risk_grid(body: RiskRequest, request: Request,
              principal: Annotated[Principal, allow("patrol.risk")]) -> dict[str, Any]:
    """Re-rate the red/yellow/green grid (三色动态警务网格) from incidents; changes are recorded."""
    now = body.now or dt.datetime.now(dt.UTC)
    bbox = None
    if body.whole_city:
        g = _city(request)
        bbox = g.bbox
    with get_db(request).session() as s:
        return service.rate_risk_grid(s, incidents=_points(body.incidents), now=now, actor=principal.username,
                                      resolution=body.resolution, window_days=body.window_days,
                                      half_life_days=body.half_life_days, bbox=bbox)


@router.get("/patrol/risk-grid/history")
def risk_history(request: Request, principal: Annotated[Principal, allow("patrol.risk")],
                 cell: str | None = None, limit: int = 200) -> dict[str, Any]:
    """Every re-rating, newest first."""
    with get_db(request).sessionmaker() as s:
        return {"history": service.risk_history(s, cell=cell, limit=max(1, min(limit, 5000)))}


@router.post("/patrol/checkpoints")
def checkpoints(body: CheckpointRequest, request: Request,
                principal: Annotated[Principal, allow("patrol.checkpoints")],
                ) -> dict[str, Any]:
    """Checkpoints for a fleeing suspect (设卡盘查、群狼合围) with the one-click order payload.

    With ``issue`` the orders are created through the orders module (one per checkpoint).
    """
    now = body.now or dt.datetime.now(dt.UTC)
    result = service.plan_checkpoints(
        graph=_city(request), lat=body.lat, lon=body.lon, seen_at=body.seen_at, now=now,
        units=[service.UnitPos(id=u.id, lat=u.lat, lon=u.lon) for u in body.units], k=body.k, mode=body.mode,
        heading_deg=body.heading_deg, horizon_min=body.horizon_min, dispatch_delay_s=body.dispatch_delay_s,
        setup_s=body.setup_s, evaluate=body.evaluate, deadline_min=body.deadline_min)
    if body.issue and not result["checkpoints"]:
        raise BadInput("nothing to issue: the plan has no checkpoints (no unit reaches an exit in time)",
                       detail={"field": "issue"})
    if body.issue:
        if principal.role not in rule_for("patrol.checkpoints.issue").roles:
            raise refuse(get_db(request), actor=principal.username, role=principal.role.value,
                         resource="patrol.checkpoints.issue",
                         reason=f"role {principal.role.value} may plan checkpoints but not issue orders")
        with get_db(request).session() as s:
            result["order_ids"] = service.issue_orders(s, result["order"], issued_by=principal.username,
                                                       incident_id=body.incident_id)
        with get_db(request).sessionmaker() as s:
            command_service.publish_orders_created(getattr(request.app.state, "bus", None), s,
                                                   order_ids=result["order_ids"])
    return result


@router.post("/patrol/missing-person")
def missing_person(body: SearchRequest, request: Request,
                   grant: Annotated[AccessGrant, personal_data("patrol.missing_person")],
                   ) -> dict[str, Any]:
    """Search area for a missing person on foot, growing over time; cameras ranked by passing time.

    Needs ``X-Case-Id`` and ``X-Purpose: missing_person``; the request is audited.
    """
    now = body.now or dt.datetime.now(dt.UTC)
    result = service.missing_person_area(
        graph=_city(request), lat=body.lat, lon=body.lon, seen_at=body.seen_at, now=now, speed_mps=body.speed_mps,
        step_min=body.step_min, ahead_min=body.ahead_min,
        places=[service.Place(id=p.id, name=p.name, kind=p.kind.lower(), lat=p.lat, lon=p.lon) for p in body.places])
    grant.record(result_count=len(result["cameras"]) + len(result["places"]),
                 params={"lat": body.lat, "lon": body.lon, "seen_at": body.seen_at.isoformat()})
    return result
