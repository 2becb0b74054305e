"""Patrol services: the scientific core applied to the city's road graph, results for maps and charts.

Keyword-only functions that take plain inputs (points, units) and return JSON-ready dicts; the
views and the CLI are thin layers over them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import scipy.sparse as sp
from shapely.geometry import mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.errors import BadInput, Unreachable
from precinct.patrol import planning, pursuit, risk, solvers, zones
from precinct.patrol.demand import Points
from precinct.patrol.models import RiskRating
from precinct.patrol.network import drive_matrix, response_matrix, walk_matrix
from precinct.patrol.solvers import Objective, Progress, response_summary

WALK_MPS = 1.2  # a missing person walking
RUN_MPS = 3.0  # a suspect fleeing on foot
HIST_BINS_MIN = (0, 2, 4, 6, 8, 10, 12, 15, 20, 30)

_lock = threading.Lock()
_matrices: dict[tuple[int, str, Any], tuple[Any, sp.csr_matrix]] = {}


def _matrix(graph: Any, kind: str = "drive", param: Any = None) -> sp.csr_matrix:
    """The graph's CSR cost matrix, cached per graph object."""
    key = (id(graph), kind, param)
    with _lock:
        hit = _matrices.get(key)
        if hit is not None and hit[0] is graph:
            return hit[1]
    a = drive_matrix(graph, param) if kind == "drive" else walk_matrix(graph, float(param))
    with _lock:
        if len(_matrices) > 16:
            _matrices.clear()
        _matrices[key] = (graph, a)
    return a


def _nodes(graph: Any, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    if len(lat) == 0:
        return np.empty(0, dtype=np.int64)
    return np.asarray(graph.nearest_nodes(np.asarray(lat), np.asarray(lon)), dtype=np.int64)


def _ll(graph: Any, node: int) -> dict[str, float]:
    return {"lat": round(float(graph.node_lat[node]), 6), "lon": round(float(graph.node_lon[node]), 6)}


def _histogram(response: np.ndarray, weights: np.ndarray) -> list[dict[str, Any]]:
    edges = np.asarray([*HIST_BINS_MIN, np.inf]) * 60.0
    counts, _ = np.histogram(np.minimum(response, 1e9), bins=edges, weights=weights)
    total = max(float(weights.sum()), 1e-12)
    out = []
    for i, c in enumerate(counts):
        hi = HIST_BINS_MIN[i + 1] if i + 1 < len(HIST_BINS_MIN) else None
        out.append({"from_min": HIST_BINS_MIN[i], "to_min": hi, "weight": float(c), "share": float(c) / total})
    return out


def _distribution(response: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    fin = np.isfinite(response)
    s = response_summary(response[fin], weights[fin])
    return {**s, "unreachable_weight": float(weights[~fin].sum()),
            "histogram": _histogram(response, weights)}


# --- posts -------------------------------------------------------------------------------------

def solve_cost_matrix(*, cost: np.ndarray, posts: int, objective: Objective, weights: np.ndarray | None = None,
                      minutes: float | None = None, names: list[str] | None = None,
                      time_limit: float | None = 300.0, progress: Progress | None = None) -> dict[str, Any]:
    """The pure problem on a user's matrix: ``{"posts", "objective", "max_response_s", ...}``."""
    w = np.ones(cost.shape[0]) if weights is None else weights
    sol = solvers.solve(cost, posts, objective, weights=w, service_time=None if minutes is None else minutes * 60,
                        time_limit=time_limit, progress=progress, tiebreak=objective == "pcenter")
    return {
        "posts": [names[j] if names else int(j) for j in sol.posts],
        "objective": objective,
        "value": sol.value,
        "bound": sol.bound,
        "max_response_s": float(sol.response.max()),
        "mean_response_s": float(np.average(sol.response, weights=w)) if w.sum() > 0 else None,
        "gap": sol.gap,
        "optimal": sol.optimal,
        "status": "optimal" if sol.optimal else str(sol.stats.get("status", "time_limit")),
        "stats": {k: v for k, v in sol.stats.items() if isinstance(v, int | float | str | bool)},
    }


def default_candidates(graph: Any, demand: Points, resolution: int = 8) -> np.ndarray:
    """Candidate post nodes: the road node nearest the centre of every H3 cell (res 8, ~0.7 km²)
    within one ring of a demand cell."""
    cells: set[str] = set()
    for c in risk.cells_for(demand.lat, demand.lon, resolution):
        cells.update(h3.grid_disk(c, 1))
    centers = np.asarray([h3.cell_to_latlng(c) for c in sorted(cells)])
    nodes = _nodes(graph, centers[:, 0], centers[:, 1])
    return np.unique(nodes)


def plan_posts(*, graph: Any, demand: Points, posts: int, objective: Objective, minutes: float | None = None,
               candidates: Points | None = None, current: Points | None = None, hour: int | None = None,
               time_limit: float | None = 120.0, progress: Progress | None = None, keep_current: bool = False,
               capacity: float | None = None, backup_cells: Sequence[str] | None = None,
               backup_minutes: float | None = None, cutoff_minutes: float | None = None) -> dict[str, Any]:
    """Choose patrol posts on the road network (九宫格布警术) and compare with the current posts.

    Demand points are snapped to road nodes and merged (weights summed); response time is the
    driving time from a post's node to the demand node. p-center answers break ties by the mean.

    p-median options (see :func:`precinct.patrol.planning.pmedian_options`): ``keep_current``
    keeps today's posts and adds ``posts`` new ones; ``capacity`` caps each post's workload (demand
    weight); ``backup_cells`` (H3 cells, e.g. the red risk cells) need two posts within
    ``backup_minutes``; ``cutoff_minutes`` builds a sparse matrix of pairs within the cutoff only.

    Returns
    -------
    dict
        ``posts`` (lat, lon, node, served weight, farthest response), ``objective``, ``status``
        (``optimal`` or ``time_limit`` with its ``gap``), ``before_after`` (farthest and mean
        response with today's posts and with the plan, when ``current`` is given),
        ``max_response_s``, ``mean_response_s``, ``p90_response_s``, ``gap``, ``after`` and
        ``before`` distributions (max, p90, mean, histogram), and ``geojson`` for the map.
    """
    if len(demand) == 0:
        raise BadInput("no demand points")
    a = _matrix(graph, "drive", hour)
    dn = _nodes(graph, demand.lat, demand.lon)
    uniq, inv = np.unique(dn, return_inverse=True)
    w = np.bincount(inv.ravel(), weights=demand.weight, minlength=uniq.size)
    cand = (_nodes(graph, candidates.lat, candidates.lon) if candidates is not None
            else default_candidates(graph, demand))
    cand = np.unique(cand)
    if posts > cand.size:
        raise BadInput(f"only {cand.size} candidate sites for {posts} posts", detail={"posts": posts})
    opts = planning.PmedianOptions(keep_current=keep_current, capacity=capacity, backup_cells=backup_cells,
                                   backup_minutes=backup_minutes, cutoff_minutes=cutoff_minutes)
    if opts.active:
        sol, cand, uniq_r, w_r, unreachable_w = planning.solve_pmedian(
            a=a, graph=graph, demand=demand, dn=dn, uniq=uniq, w=w, cand=cand, posts=posts, objective=objective,
            current=current, options=opts, time_limit=time_limit)
    else:
        cost = response_matrix(a, uniq, cand)
        reach = np.isfinite(cost).any(axis=1)
        if not reach.any():
            raise Unreachable("no demand point can be reached from any candidate site")
        cost_r, w_r, uniq_r = cost[reach], w[reach], uniq[reach]
        unreachable_w = float(w[~reach].sum())
        sol = solvers.solve(cost_r, posts, objective, weights=w_r,
                            service_time=None if minutes is None else minutes * 60.0, time_limit=time_limit,
                            progress=progress, tiebreak=objective == "pcenter")
    chosen = cand[sol.posts]
    after = _distribution(sol.response, w_r)
    result: dict[str, Any] = {
        "posts": [{**_ll(graph, int(v)), "node": int(v),
                   "served_weight": float(w_r[sol.assignment == i].sum()),
                   "max_response_s": float(sol.response[sol.assignment == i].max(initial=0.0))}
                  for i, v in enumerate(chosen)],
        "objective": objective,
        "value": sol.value,
        "bound": sol.bound,
        "max_response_s": after["max_s"],
        "mean_response_s": after["mean_s"],
        "p90_response_s": after["p90_s"],
        "gap": sol.gap,
        "optimal": sol.optimal,
        "status": "optimal" if sol.optimal else str(sol.stats.get("status", "time_limit")),
        "demand_nodes": int(uniq.size),
        "unreachable_demand_weight": unreachable_w,
        "candidates": int(cand.size),
        "after": after,
        "before": None,
        "stats": {k: v for k, v in sol.stats.items() if isinstance(v, int | float | str | bool)},
    }
    if minutes is not None:
        result["covered_share"] = float(w_r[sol.response <= minutes * 60].sum() / w_r.sum())
    if current is not None and len(current):
        cur = np.unique(_nodes(graph, current.lat, current.lon))
        before_resp = response_matrix(a, uniq_r, cur).min(axis=1)
        result["before"] = _distribution(before_resp, w_r)
        result["current_posts"] = [{**_ll(graph, int(v)), "node": int(v)} for v in cur]
        result["before_after"] = planning.before_after(result["before"], after)
    result["geojson"] = _posts_geojson(graph, result, uniq_r, sol.response, w_r)
    return result


def _posts_geojson(graph: Any, result: dict[str, Any], demand_nodes: np.ndarray, response: np.ndarray,
                   weight: np.ndarray) -> dict[str, Any]:
    feats: list[dict[str, Any]] = []
    for i, p in enumerate(result["posts"]):
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                      "properties": {"kind": "post", "index": i, "served_weight": p["served_weight"],
                                     "max_response_s": p["max_response_s"]}})
    for p in result.get("current_posts", []):
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                      "properties": {"kind": "current_post"}})
    for v, r, wt in zip(demand_nodes, response, weight, strict=True):
        ll = _ll(graph, int(v))
        feats.append({"type": "Feature",
                      "geometry": {"type": "Point", "coordinates": [ll["lon"], ll["lat"]]},
                      "properties": {"kind": "demand", "weight": float(wt),
                                     "response_s": None if not np.isfinite(r) else round(float(r), 1)}})
    return {"type": "FeatureCollection", "features": feats}


# --- zones -------------------------------------------------------------------------------------

def plan_zones(*, graph: Any, posts: Points, demand: Points | None = None, balance: bool = False,
               hour: int | None = None, segments: bool = True) -> dict[str, Any]:
    """Patrol zones: each road segment to its fastest post; with ``balance`` even workloads.

    Workload of a node = incident weight snapped there (if ``demand`` given) plus half the road
    length (km) around it, so quiet roads still count.
    """
    if len(posts) == 0:
        raise BadInput("at least one post is needed")
    a = _matrix(graph, "drive", hour)
    pn = _nodes(graph, posts.lat, posts.lon)
    length_km = np.bincount(graph.tail, weights=graph.length_m, minlength=graph.n_nodes) / 1000.0
    load = 0.5 * length_km
    if demand is not None and len(demand):
        load = load + np.bincount(_nodes(graph, demand.lat, demand.lon), weights=demand.weight,
                                  minlength=graph.n_nodes)
    z = zones.network_voronoi(a, pn, node_weight=load, balance=balance)
    ez = zones.edge_zones(graph.tail, graph.head, z)
    out_zones = []
    feats: list[dict[str, Any]] = []
    seg = graph.segment_edges
    for i, v in enumerate(pn):
        nodes_i = z.node_zone == i
        t_i = z.node_time[nodes_i]
        out_zones.append({"index": i, **_ll(graph, int(v)), "node": int(v), "workload": float(z.load[i]),
                          "nodes": int(nodes_i.sum()),
                          "road_km": float(graph.length_m[seg[ez[seg] == i]].sum() / 1000.0),
                          "max_time_s": float(t_i.max()) if t_i.size else 0.0,
                          "offset_s": float(z.offsets[i])})
        if segments:
            e = seg[ez[seg] == i]
            lines = [[[round(float(graph.node_lon[t]), 6), round(float(graph.node_lat[t]), 6)],
                      [round(float(graph.node_lon[h]), 6), round(float(graph.node_lat[h]), 6)]]
                     for t, h in zip(graph.tail[e], graph.head[e], strict=True)]
            feats.append({"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines},
                          "properties": {"kind": "zone", "zone": i, "workload": float(z.load[i])}})
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [_ll(graph, int(v))["lon"],
                                                                                     _ll(graph, int(v))["lat"]]},
                      "properties": {"kind": "post", "zone": i}})
    return {"zones": out_zones, "balanced": balance, "imbalance": z.imbalance,
            "unassigned_nodes": int((z.node_zone < 0).sum()),
            "geojson": {"type": "FeatureCollection", "features": feats}}


# --- risk grids --------------------------------------------------------------------------------

def rate_risk_grid(session: Session, *, incidents: Points, now: dt.datetime, actor: str, resolution: int = 8,
                   window_days: float = 28.0, half_life_days: float | None = 14.0,
                   bbox: tuple[float, float, float, float] | None = None, red_share: float = risk.RED_SHARE,
                   yellow_share: float = risk.YELLOW_SHARE, persist: bool = True) -> dict[str, Any]:
    """Rate the grid from incidents (weight = severity) and record every change of colour.

    ``incidents.ts`` must hold ISO 8601 times; cells of ``bbox`` without incidents are green.
    """
    if incidents.ts is None:
        raise BadInput("incidents need a ts column for the trailing window", detail={"field": "ts"})
    ages = risk.ages_in_days(incidents.ts, now)
    cells = risk.cells_for(incidents.lat, incidents.lon, resolution)
    scores = risk.score_cells(cells, incidents.weight, ages, window_days=window_days, half_life_days=half_life_days)
    grid = risk.area_cells(bbox, resolution) if bbox is not None else None
    ratings = risk.rate(scores, grid, red_share=red_share, yellow_share=yellow_share)
    changes = []
    if persist:
        latest = _latest_ratings(session, [r.cell for r in ratings])
        for r in ratings:
            prev = latest.get(r.cell)
            if prev == r.rating:
                continue
            if prev is None and r.rating == "green":
                continue  # green is the default; history starts at the first non-green rating
            session.add(RiskRating(cell=r.cell, resolution=resolution, rating=r.rating, previous=prev,
                                   score=r.score, incidents=r.incidents, window_days=window_days, rated_at=now,
                                   rated_by=actor))
            changes.append({"cell": r.cell, "from": prev, "to": r.rating, "score": r.score})
    counts = {c: sum(1 for r in ratings if r.rating == c) for c in ("red", "yellow", "green")}
    return {"resolution": resolution, "window_days": window_days, "rated_at": now.isoformat(), "counts": counts,
            "changes": changes, "cells": [r.__dict__ for r in ratings], "geojson": risk.cells_geojson(ratings)}


def _latest_ratings(session: Session, cells: Sequence[str]) -> dict[str, str]:
    if not cells:
        return {}
    sub = (select(RiskRating.cell, func.max(RiskRating.id).label("mid")).group_by(RiskRating.cell).subquery())
    rows = session.execute(select(RiskRating.cell, RiskRating.rating).join(sub, RiskRating.id == sub.c.mid)).all()
    wanted = set(cells)
    return {c: r for c, r in rows if c in wanted}


def risk_history(session: Session, *, cell: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Re-ratings, newest first (one cell or all)."""
    q = select(RiskRating).order_by(RiskRating.id.desc()).limit(limit)
    if cell:
        q = q.where(RiskRating.cell == cell)
    return [{"cell": r.cell, "rating": r.rating, "previous": r.previous, "score": r.score, "incidents": r.incidents,
             "resolution": r.resolution, "rated_at": r.rated_at.isoformat(), "rated_by": r.rated_by}
            for r in session.scalars(q)]


# --- checkpoints -------------------------------------------------------------------------------

@dataclass
class UnitPos:
    id: str
    lat: float
    lon: float


def plan_checkpoints(*, graph: Any, lat: float, lon: float, seen_at: dt.datetime, now: dt.datetime,
                     units: Sequence[UnitPos], k: int, mode: str = "vehicle", heading_deg: float | None = None,
                     horizon_min: float = 15.0, dispatch_delay_s: float = 60.0, setup_s: float = 60.0,
                     evaluate: bool = True, n_routes: int = 300, deadline_min: float | None = None,
                     hour: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Checkpoints for a fleeing suspect (设卡盘查、群狼合围), as a plan and an order payload.

    Parameters
    ----------
    lat, lon, seen_at
        Last sighting.
    now
        Planning time (``now - seen_at`` has elapsed).
    units
        Available units and their positions.
    k
        Most checkpoints.
    mode
        ``vehicle`` (suspect drives) or ``foot`` (suspect runs at 3 m/s, ignoring one-ways).
    heading_deg
        Direction of flight if known (compass degrees).
    horizon_min
        Minutes ahead of now that the plan covers.
    evaluate
        Simulate fugitive routes and compare with the nearest-junction baseline.
    """
    if seen_at.tzinfo is None or now.tzinfo is None:
        raise BadInput("times need a timezone offset")
    elapsed = (now - seen_at).total_seconds()
    if elapsed < 0:
        raise BadInput("the sighting is in the future", detail={"seen_at": seen_at.isoformat()})
    if mode not in {"vehicle", "foot"}:
        raise BadInput("mode must be vehicle or foot", detail={"mode": mode})
    if not units:
        raise BadInput("no units given", detail={"field": "units"})
    drive = _matrix(graph, "drive", hour)
    a_s = drive if mode == "vehicle" else _matrix(graph, "walk", RUN_MPS)
    src = int(_nodes(graph, np.array([lat]), np.array([lon]))[0])
    un = _nodes(graph, np.array([u.lat for u in units]), np.array([u.lon for u in units]))
    horizon = elapsed + horizon_min * 60.0
    plan = pursuit.plan_checkpoints(a_s, src, un, k=k, elapsed_s=elapsed, horizon_s=horizon,
                                    dispatch_delay_s=dispatch_delay_s, setup_s=setup_s, heading_deg=heading_deg,
                                    xy=graph.node_xy, time_limit=1.5, a_units=drive)
    cps = [{**_ll(graph, c.node), "node": c.node, "unit_id": units[c.unit].id,
            "ready_at": (seen_at + dt.timedelta(seconds=c.ready_s)).isoformat(),
            "suspect_earliest_at": (seen_at + dt.timedelta(seconds=c.suspect_s)).isoformat(),
            "margin_s": round(c.margin_s, 1), "route_share": c.routes / max(plan.n_exits, 1)}
           for c in plan.checkpoints]
    out: dict[str, Any] = {
        "checkpoints": cps, "covered_share": plan.covered, "exits": plan.n_exits, "status": plan.status,
        "elapsed_s": elapsed, "horizon_s": horizon, "mode": mode,
        "stats": {k2: v for k2, v in plan.stats.items() if isinstance(v, int | float | str)},
    }
    if evaluate:
        esc = pursuit.simulate_escapes(a_s, src, horizon_s=horizon, n_routes=n_routes, seed=seed,
                                       xy=graph.node_xy)
        ours = pursuit.intercepted(esc, np.array([c.node for c in plan.checkpoints], dtype=np.int64),
                                   np.array([c.ready_s for c in plan.checkpoints]))
        ut = pursuit.unit_times(drive, un, horizon)
        bn, br = pursuit.nearest_junction_plan(drive, un, ut, elapsed_s=elapsed, dispatch_delay_s=dispatch_delay_s,
                                               setup_s=setup_s, k=k)
        base = pursuit.intercepted(esc, bn, br)
        out["evaluation"] = {"routes": len(esc.paths), "intercepted_share": float(ours.mean()) if ours.size else 0.0,
                             "nearest_junction_share": float(base.mean()) if base.size else 0.0}
    deadline = now + dt.timedelta(minutes=deadline_min if deadline_min is not None else 5.0)
    out["order"] = order_payload(out, deadline=deadline)
    out["geojson"] = _checkpoint_geojson(graph, lat, lon, cps)
    return out


def order_payload(plan: dict[str, Any], *, deadline: dt.datetime) -> dict[str, Any]:
    """A plain one-click order (一键下达): recipients, one instruction per checkpoint, a deadline."""
    instructions = [{"recipient": f"unit:{c['unit_id']}", "unit_id": c["unit_id"], "lat": c["lat"], "lon": c["lon"],
                     "set_by": c["ready_at"],
                     "text": (f"设卡盘查 checkpoint at {c['lat']:.5f},{c['lon']:.5f}: be in position by "
                              f"{c['ready_at']}; suspect can arrive from {c['suspect_earliest_at']}")}
                    for c in plan["checkpoints"]]
    return {"title": "设卡盘查 / checkpoint plan", "priority": "red",
            "recipients": [i["recipient"] for i in instructions], "instructions": instructions,
            "deadline": deadline.isoformat()}


def issue_orders(session: Session, payload: dict[str, Any], *, issued_by: str, incident_id: str | None = None,
                 ) -> list[str]:
    """Issue the payload through the orders module: one order per checkpoint, all in this transaction."""
    from precinct.command import service as orders  # the command domain owns issuing and acknowledgement

    deadline = dt.datetime.fromisoformat(payload["deadline"])
    ids = []
    for ins in payload["instructions"]:
        order = orders.create_order(session, title=payload["title"], body=ins["text"], recipients=[ins["recipient"]],
                                    deadline=deadline, issued_by=issued_by, priority=payload["priority"],
                                    incident_id=incident_id)
        ids.append(str(order.id))
    return ids


def _checkpoint_geojson(graph: Any, lat: float, lon: float, cps: list[dict[str, Any]]) -> dict[str, Any]:
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
              "properties": {"kind": "last_seen"}}]
    for c in cps:
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
                      "properties": {"kind": "checkpoint", **{k: c[k] for k in ("unit_id", "ready_at", "margin_s")}}})
    return {"type": "FeatureCollection", "features": feats}


# --- missing person ----------------------------------------------------------------------------

@dataclass
class Place:
    id: str
    name: str
    kind: str  # camera | station | hospital | shelter | ...
    lat: float
    lon: float


def missing_person_area(*, graph: Any, lat: float, lon: float, seen_at: dt.datetime, now: dt.datetime,
                        speed_mps: float = WALK_MPS, step_min: float = 15.0, ahead_min: float = 60.0,
                        places: Sequence[Place] = (), max_rings: int = 12) -> dict[str, Any]:
    """Where a person on foot can be: rings of the walking area over time, and places ranked by the
    earliest time the person could reach them (cameras: when they could have passed).

    Rings run from ``step_min`` to ``now + ahead_min`` (so the area still to search is shown).
    """
    if seen_at.tzinfo is None or now.tzinfo is None:
        raise BadInput("times need a timezone offset")
    elapsed = (now - seen_at).total_seconds()
    if elapsed < 0:
        raise BadInput("last seen is in the future")
    if not (0 < speed_mps <= 5):
        raise BadInput("walking speed must be in (0, 5] m/s", detail={"speed_mps": speed_mps})
    total = elapsed + ahead_min * 60.0
    step = max(step_min * 60.0, total / max_rings)
    times = np.arange(step, total + step - 1e-9, step)
    rings = []
    feats: list[dict[str, Any]] = []
    for t in times:
        geom = graph.isochrone(lat, lon, float(t), speed_mps=speed_mps)
        at = seen_at + dt.timedelta(seconds=float(t))
        rings.append({"minutes": round(float(t) / 60, 1), "at": at.isoformat(), "area_km2": None,
                      "past": bool(t <= elapsed)})
        feats.append({"type": "Feature", "geometry": mapping(geom),
                      "properties": {"kind": "reach", "minutes": round(float(t) / 60, 1), "at": at.isoformat(),
                                     "past": bool(t <= elapsed)}})
    a = _matrix(graph, "walk", speed_mps)
    src = int(_nodes(graph, np.array([lat]), np.array([lon]))[0])
    from scipy.sparse.csgraph import dijkstra

    node_t = np.asarray(dijkstra(a, indices=src, limit=total))
    ranked: list[dict[str, Any]] = []
    if places:
        pn = _nodes(graph, np.array([p.lat for p in places]), np.array([p.lon for p in places]))
        for p, v in zip(places, pn, strict=True):
            t = float(node_t[v])
            if not np.isfinite(t):
                continue
            ranked.append({"id": p.id, "name": p.name, "kind": p.kind, "lat": p.lat, "lon": p.lon,
                           "walk_s": round(t, 1), "earliest_at": (seen_at + dt.timedelta(seconds=t)).isoformat(),
                           "reachable_by_now": t <= elapsed})
        ranked.sort(key=lambda r: float(r["walk_s"]))
        for r in ranked:
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                          "properties": {"kind": r["kind"], "id": r["id"], "earliest_at": r["earliest_at"]}})
    cameras = [r for r in ranked if r["kind"] == "camera"]
    others = [r for r in ranked if r["kind"] != "camera"]
    return {"elapsed_s": elapsed, "speed_mps": speed_mps, "rings": rings, "cameras": cameras, "places": others,
            "reachable_nodes_now": int((node_t <= elapsed).sum()),
            "geojson": {"type": "FeatureCollection", "features": feats}}
