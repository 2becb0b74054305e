"""``precinct patrol``: posts, zones, risk grids, checkpoints and missing-person search areas.

The solvers (NumPy, SciPy, HiGHS, H3, Shapely) are imported inside the commands, so that
``precinct --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from precinct.core.access import cli_grant, cli_principal
from precinct.core.clikit import AsUser, CaseId, FormatOpt, PurposeOpt, emit_json, open_db, progress_bar
from precinct.errors import BadInput

app = typer.Typer(help="Patrol and deployment (勤): posts, zones, risk grids, checkpoints, search areas.",
                  no_args_is_help=True)



def _city() -> Any:
    from precinct.city.service import current_city

    return current_city()


def _write_geojson(path: Path | None, result: dict[str, Any]) -> None:
    geo = result.pop("geojson", None)
    if path is not None and geo is not None:
        path.write_text(json.dumps(geo, ensure_ascii=False), encoding="utf-8")


def _when(value: str | None, field: str) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    from precinct.core.timeutil import parse_iso_field

    return parse_iso_field(value, field)


@app.command("posts")
def posts_cmd(
    posts: Annotated[int, typer.Option("--posts", "-p", help="number of posts P")],
    demand: Annotated[Path | None, typer.Option(help="CSV: lat, lon[, weight] or calls.csv")] = None,
    cost_matrix: Annotated[Path | None, typer.Option("--cost-matrix", help="CSV of travel seconds (rows = "
                                                     "demand, columns = candidates); solves the pure problem")] = None,
    objective: Annotated[str, typer.Option(help="pcenter, pmedian or mclp")] = "pcenter",
    minutes: Annotated[float | None, typer.Option(help="MCLP service time in minutes")] = None,
    candidates: Annotated[Path | None, typer.Option(help="CSV of candidate sites lat, lon")] = None,
    current: Annotated[Path | None, typer.Option(help="CSV of current posts, for before/after")] = None,
    weights_first: Annotated[bool, typer.Option(help="cost matrix: first column holds weights")] = False,
    time_limit: Annotated[float, typer.Option(help="seconds for the solver")] = 300.0,
    hour: Annotated[int | None, typer.Option(help="hour of day for congested travel times")] = None,
    geojson: Annotated[Path | None, typer.Option(help="write the map layer to this file")] = None,
    keep_current: Annotated[bool, typer.Option(help="p-median: keep the --current posts, add P new ones")] = False,
    capacity: Annotated[float | None, typer.Option(help="p-median: workload (demand weight) per post")] = None,
    backup_red: Annotated[bool, typer.Option(help="p-median: two posts near every demand point in a red "
                                                  "risk cell (needs --backup-minutes)")] = False,
    backup_minutes: Annotated[float | None, typer.Option(help="backup coverage radius in minutes")] = None,
    cutoff: Annotated[float | None, typer.Option(help="p-median: travel-time cutoff in minutes (sparse "
                                                      "matrix, every point must reach a post within it)")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Choose P patrol posts (九宫格布警术): p-center, p-median or maximal covering, exact with a gap."""
    from precinct.patrol import service
    from precinct.patrol.demand import read_cost_matrix, read_points

    if objective not in {"pcenter", "pmedian", "mclp"}:
        raise BadInput("objective must be pcenter, pmedian or mclp", detail={"field": "objective"})
    if (demand is None) == (cost_matrix is None):
        raise BadInput("give exactly one of --demand and --cost-matrix")
    if as_user is not None:
        cli_principal(open_db(), as_user, "patrol.posts")
    with progress_bar(transient=True) as bar:
        task = bar.add_task(f"{objective} with {posts} posts", total=100)

        def progress(msg: str, frac: float) -> None:
            bar.update(task, completed=int(100 * frac), description=msg)

        if cost_matrix is not None:
            cost, weights, names = read_cost_matrix(cost_matrix, weights_first=weights_first)
            result = service.solve_cost_matrix(cost=cost, posts=posts, objective=objective,  # type: ignore[arg-type]
                                               weights=weights, minutes=minutes, names=names,
                                               time_limit=time_limit, progress=progress)
        else:
            assert demand is not None
            red = None
            if backup_red:
                from precinct.patrol.planning import red_cells

                with open_db().sessionmaker() as s:
                    red = red_cells(s)
            result = service.plan_posts(graph=_city(), demand=read_points(demand), posts=posts,
                                        objective=objective, minutes=minutes,  # type: ignore[arg-type]
                                        candidates=read_points(candidates) if candidates else None,
                                        current=read_points(current) if current else None, hour=hour,
                                        time_limit=time_limit, progress=progress, keep_current=keep_current,
                                        capacity=capacity, backup_cells=red, backup_minutes=backup_minutes,
                                        cutoff_minutes=cutoff)
        bar.update(task, completed=100)
    _write_geojson(geojson, result)
    if format == "json":
        emit_json(result)
        return
    proof = ("proven optimal / 已证明最优" if result.get("optimal")
             else f"NOT proven optimal / 未证明最优: gap {result['gap']:.2%} ({result.get('status', 'time_limit')})")
    typer.echo(f"{objective}: {len(result['posts'])} posts, farthest {result['max_response_s'] / 60:.1f} min, "
               f"mean {result['mean_response_s'] / 60:.1f} min, {proof}")
    for p in result["posts"]:
        typer.echo(f"  {p}")
    if result.get("before"):
        b = result["before"]
        typer.echo(f"current posts: farthest {b['max_s'] / 60:.1f} min, p90 {b['p90_s'] / 60:.1f}, "
                   f"mean {b['mean_s'] / 60:.1f}")
    if result.get("before_after"):
        typer.echo(f"{result['before_after']['text_en']}\n{result['before_after']['text_zh']}")


@app.command("zones")
def zones_cmd(
    posts: Annotated[Path, typer.Option(help="CSV of posts lat, lon")],
    demand: Annotated[Path | None, typer.Option(help="CSV of incidents for workload")] = None,
    balance: Annotated[bool, typer.Option(help="even out workload between zones")] = False,
    geojson: Annotated[Path | None, typer.Option(help="write the map layer to this file")] = None,
    format: FormatOpt = "table",
) -> None:
    """Patrol zones: each road to its fastest post (network Voronoi), optionally balanced."""
    from precinct.patrol import service
    from precinct.patrol.demand import read_points

    result = service.plan_zones(graph=_city(), posts=read_points(posts),
                                demand=read_points(demand) if demand else None, balance=balance,
                                segments=geojson is not None)
    _write_geojson(geojson, result)
    if format == "json":
        emit_json(result)
        return
    for z in result["zones"]:
        typer.echo(f"zone {z['index']}: {z['road_km']:.1f} km roads, workload {z['workload']:.1f}, "
                   f"farthest {z['max_time_s'] / 60:.1f} min")
    typer.echo(f"imbalance (max / mean workload): {result['imbalance']:.2f}")


@app.command("risk")
def risk_cmd(
    incidents: Annotated[Path, typer.Option(help="calls.csv (ts, lat, lon, priority) or lat, lon, ts, weight")],
    resolution: Annotated[int, typer.Option(help="H3 resolution (8 = ~0.7 km² cells)")] = 8,
    window_days: Annotated[float, typer.Option(help="trailing window in days")] = 28.0,
    now: Annotated[str | None, typer.Option(help="rating time (ISO 8601; default now)")] = None,
    geojson: Annotated[Path | None, typer.Option(help="write the map layer to this file")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Rate the red/yellow/green risk grid (三色动态警务网格) and record every change of colour."""
    from precinct.patrol import service
    from precinct.patrol.demand import read_points

    db = open_db()
    principal = cli_principal(db, as_user, "patrol.risk")
    with db.session() as s:
        result = service.rate_risk_grid(s, incidents=read_points(incidents), now=_when(now, "now"),
                                        actor=principal.username, resolution=resolution, window_days=window_days)
    _write_geojson(geojson, result)
    if format == "json":
        emit_json(result)
        return
    c = result["counts"]
    typer.echo(f"red {c['red']}, yellow {c['yellow']}, green {c['green']}; {len(result['changes'])} changes")


@app.command("checkpoints")
def checkpoints_cmd(
    lat: Annotated[float, typer.Option(help="last sighting latitude")],
    lon: Annotated[float, typer.Option(help="last sighting longitude")],
    units: Annotated[Path, typer.Option(help="CSV of available units: id, lat, lon")],
    k: Annotated[int, typer.Option(help="most checkpoints")] = 6,
    seen_at: Annotated[str | None, typer.Option(help="time of the sighting (ISO 8601; default now)")] = None,
    mode: Annotated[str, typer.Option(help="vehicle or foot")] = "vehicle",
    heading: Annotated[float | None, typer.Option(help="direction of flight, compass degrees")] = None,
    horizon: Annotated[float, typer.Option(help="minutes ahead to plan for")] = 15.0,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Checkpoints for a fleeing suspect (设卡盘查、群狼合围) and the order payload for the units."""
    from precinct.patrol import service
    from precinct.patrol.demand import read_points

    if as_user is not None:
        cli_principal(open_db(), as_user, "patrol.checkpoints")
    pts = read_points(units)
    ups = [service.UnitPos(id=i, lat=float(a), lon=float(b)) for i, a, b in zip(pts.ids, pts.lat, pts.lon, strict=True)]
    now = dt.datetime.now(dt.UTC)
    result = service.plan_checkpoints(graph=_city(), lat=lat, lon=lon, seen_at=_when(seen_at, "seen_at"), now=now,
                                      units=ups, k=k, mode=mode, heading_deg=heading, horizon_min=horizon)
    result.pop("geojson", None)
    if format == "json":
        emit_json(result)
        return
    for c in result["checkpoints"]:
        typer.echo(f"unit {c['unit_id']} -> {c['lat']:.5f},{c['lon']:.5f} ready {c['ready_at']} "
                   f"(margin {c['margin_s']:.0f} s)")
    typer.echo(f"escape routes covered: {result['covered_share']:.0%}")
    if "evaluation" in result:
        e = result["evaluation"]
        typer.echo(f"simulated: {e['intercepted_share']:.0%} intercepted vs {e['nearest_junction_share']:.0%} "
                   "with units at their nearest junctions")


@app.command("search")
def search_cmd(
    lat: Annotated[float, typer.Option(help="last seen latitude")],
    lon: Annotated[float, typer.Option(help="last seen longitude")],
    seen_at: Annotated[str, typer.Option(help="last seen time (ISO 8601 with offset)")],
    places: Annotated[Path | None, typer.Option(help="CSV id, name, kind, lat, lon (cameras, stations, ...)")] = None,
    speed: Annotated[float | None, typer.Option(help="walking speed m/s [default: 1.2]")] = None,
    as_user: AsUser = None,
    case: CaseId = None,
    purpose: PurposeOpt = "missing_person",
    format: FormatOpt = "table",
) -> None:
    """Missing-person search area over time, with cameras ranked by when the person could pass them."""
    from precinct.patrol import service

    db = open_db()
    grant = cli_grant(db, as_user, "patrol.missing_person", case_id=case,
                      purpose=purpose)
    plist: list[service.Place] = []
    if places is not None:
        import csv

        with places.open(newline="", encoding="utf-8-sig") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                plist.append(service.Place(id=row.get("id") or str(i), name=row.get("name") or "",
                                           kind=(row.get("kind") or "camera").lower(), lat=float(row["lat"]),
                                           lon=float(row["lon"])))
    result = service.missing_person_area(graph=_city(), lat=lat, lon=lon, seen_at=_when(seen_at, "seen_at"),
                                         now=dt.datetime.now(dt.UTC),
                                         speed_mps=service.WALK_MPS if speed is None else speed, places=plist)
    result.pop("geojson", None)
    grant.record(result_count=len(result["cameras"]) + len(result["places"]),
                 params={"lat": lat, "lon": lon, "seen_at": seen_at})
    if format == "json":
        emit_json(result)
        return
    for c in result["cameras"][:20]:
        typer.echo(f"camera {c['id']}: from {c['earliest_at']} ({c['walk_s'] / 60:.0f} min walk)")
