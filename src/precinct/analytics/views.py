"""Analytics API (研判): hotspots, near-repeat and forecast evaluation on Precinct's own incidents.

Thin views over :mod:`precinct.analytics.service`. Every answer is an aggregate about places and
times (grid cells, distance/time bands, methods), never an incident or a person, so the routes
need a role (``analytics.read``: analysts, supervisors, dispatchers, administrators), not a case.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from precinct.analytics import service
from precinct.analytics.events import Events, to_wgs84
from precinct.core.access import allow, get_db, get_settings_dep
from precinct.core.identity import Principal
from precinct.errors import BadInput

router = APIRouter(tags=["analytics"])
MAX_WINDOW_DAYS = 3 * 366
MAX_API_CELLS = 250_000
MAX_API_DISTANCE_M = 2000.0


def _events(request: Request, since: dt.datetime | None, until: dt.datetime | None, types: str | None,
            default_days: int = 365) -> Events:
    until = until or dt.datetime.now(dt.UTC)
    try:
        since = since or until - dt.timedelta(days=default_days)
    except OverflowError:  # an `until` in year 1 has no window before it
        raise BadInput(f"until is too early for a {default_days}-day window", detail={"field": "until"}) from None
    for name, v in (("since", since), ("until", until)):
        if v.tzinfo is None:
            raise BadInput(f"{name} needs a timezone offset", detail={"field": name})
    if not since < until or (until - since).days > MAX_WINDOW_DAYS:
        raise BadInput(f"since must be before until, at most {MAX_WINDOW_DAYS} days apart", detail={"field": "since"})
    kinds = [t.strip() for t in types.split(",") if t.strip()] if types else None
    with get_db(request).sessionmaker() as s:
        return service.incident_events(s, since=since, until=until, types=kinds)


@router.get("/analytics/hotspots")
def hotspots(request: Request, principal: Annotated[Principal, allow("analytics.read")],
             since: dt.datetime | None = None, until: dt.datetime | None = None, types: str | None = None,
             cell_m: Annotated[float, Query(ge=25, le=5000)] = 250.0,
             permutations: Annotated[int, Query(ge=0, le=9999)] = 999,
             bandwidth_m: Annotated[float | None, Query(gt=0, le=20000)] = None) -> dict[str, Any]:
    """Counts and Gi* per grid cell (every cell of the grid, with its centre in WGS84 for the map)."""
    out = service.hotspots(_events(request, since, until, types), cell_m=cell_m, permutations=permutations,
                           seed=0, bandwidth_m=bandwidth_m, max_cells=MAX_API_CELLS)
    return _with_wgs84(out)


MAX_UPLOAD_BYTES = 64 * 1024 * 1024


@router.post("/analytics/hotspots/csv")
async def hotspots_csv(request: Request, principal: Annotated[Principal, allow("analytics.read")],
                       crs: Annotated[str | None, Query(max_length=32)] = None, types: str | None = None,
                       cell_m: Annotated[float, Query(ge=25, le=5000)] = 250.0,
                       permutations: Annotated[int, Query(ge=0, le=9999)] = 999) -> dict[str, Any]:
    """Counts and Gi* per grid cell of an analyst's CSV (the body: ``id,ts,type`` and ``lat,lon`` or
    ``x,y`` with ``crs``), as ``GET /analytics/hotspots``; bad rows are named with their line."""
    import tempfile
    from pathlib import Path

    from starlette.concurrency import run_in_threadpool

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise BadInput(f"the CSV is larger than {MAX_UPLOAD_BYTES // 2**20} MiB", detail={"field": "body"})
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "upload.csv"
        size = 0
        with path.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise BadInput(f"the CSV is larger than {MAX_UPLOAD_BYTES // 2**20} MiB", detail={"field": "body"})
                fh.write(chunk)
        if size == 0:
            raise BadInput("send the CSV as the request body (header id,ts,type,lat,lon or x,y)",
                           detail={"field": "body"})
        kinds = [t.strip() for t in types.split(",") if t.strip()] if types else None

        def run() -> dict[str, Any]:
            ev = service.load_csv(path, crs=crs).of_types(kinds)
            out = service.hotspots(ev, cell_m=cell_m, permutations=permutations, seed=0, max_cells=MAX_API_CELLS)
            return _with_wgs84(out)

        return await run_in_threadpool(run)


def _with_wgs84(out: dict[str, Any], key: str = "cells") -> dict[str, Any]:
    """Add each cell's (or zone's) centre in WGS84 (``lat``, ``lon``) for the map."""
    import numpy as np

    cells = out[key]
    if cells:
        lat, lon = to_wgs84(np.array([c["x"] for c in cells]), np.array([c["y"] for c in cells]), out["crs"])
        for c, la, lo in zip(cells, lat.tolist(), lon.tolist(), strict=True):
            c["lat"], c["lon"] = la, lo
    return out


@router.get("/analytics/knox")
def knox(request: Request, principal: Annotated[Principal, allow("analytics.read")],
         since: dt.datetime | None = None, until: dt.datetime | None = None, types: str | None = None,
         distance_bands: str = "0,0.1,200,400,600", time_bands: str = "0,7,14,21",
         permutations: Annotated[int, Query(ge=0, le=999)] = 99) -> dict[str, Any]:
    """The near-repeat table (Knox over distance x time bands) and the near-repeat zone."""
    from precinct.analytics.knox import parse_edges

    d_edges = parse_edges(distance_bands, "distance_bands")
    if d_edges[-1] > MAX_API_DISTANCE_M:
        raise BadInput(f"distance bands end at most at {MAX_API_DISTANCE_M:g} m here (the CLI has no such limit)",
                       detail={"field": "distance_bands"})
    return service.knox_bands(_events(request, since, until, types), distance_edges=d_edges.tolist(),
                              time_edges=parse_edges(time_bands, "time_bands").tolist(),
                              permutations=permutations, seed=0)


@router.get("/analytics/near-repeat-zones")
def near_repeat_zones(request: Request, principal: Annotated[Principal, allow("analytics.read")],
                      until: dt.datetime | None = None, types: str | None = "burglary",
                      history_days: Annotated[int, Query(ge=28, le=MAX_WINDOW_DAYS)] = 365,
                      distance_bands: str = "0,100,200,400", time_bands: str = "0,7,14,28",
                      permutations: Annotated[int, Query(ge=19, le=999)] = 99) -> dict[str, Any]:
    """Near-repeat zones now: around each recent incident (default burglaries), the distance and time
    where the Knox table of the last ``history_days`` says risk is raised; suggested to patrol."""
    import numpy as np

    from precinct.analytics.knox import parse_edges

    d_edges = parse_edges(distance_bands, "distance_bands")
    if d_edges[-1] > MAX_API_DISTANCE_M:
        raise BadInput(f"distance bands end at most at {MAX_API_DISTANCE_M:g} m here",
                       detail={"field": "distance_bands"})
    end = until or dt.datetime.now(dt.UTC)
    ev = _events(request, None, end, types, default_days=history_days)
    stamp = np.datetime64(end.astimezone(dt.UTC).replace(tzinfo=None), "s")
    out = service.near_repeat_zones(ev, until=stamp, distance_edges=d_edges.tolist(),
                                    time_edges=parse_edges(time_bands, "time_bands").tolist(),
                                    permutations=permutations, seed=0)
    return _with_wgs84(out, "zones") | {"types": types}


@router.get("/analytics/evaluate")
def evaluate(request: Request, principal: Annotated[Principal, allow("analytics.read")],
             until: dt.datetime | None = None, types: str | None = None,
             cell_m: Annotated[float, Query(ge=50, le=5000)] = 250.0,
             train_days: Annotated[int, Query(ge=7, le=730)] = 365,
             test_days: Annotated[int, Query(ge=1, le=90)] = 7,
             origins: Annotated[int, Query(ge=1, le=52)] = 8,
             area_share: Annotated[float, Query(gt=0, lt=1)] = 0.05) -> dict[str, Any]:
    """Hit rate and PAI of each forecast method on a rolling origin (shown beside every forecast)."""
    from precinct.analytics.evaluate import evaluate as run

    days = train_days + test_days * origins + 1
    ev = _events(request, None, until, types, default_days=days)
    return run(ev, cell_m=cell_m, train_days=train_days, test_days=test_days, origins=origins,
               area_shares=(area_share,))


@router.get("/analytics/forecast")
def forecast(request: Request, principal: Annotated[Principal, allow("analytics.read")],
             until: dt.datetime | None = None, types: str | None = None,
             method: Annotated[str, Query(pattern="^(kde|retrospective|prospective|sepp)$")] = "sepp",
             cell_m: Annotated[float, Query(ge=50, le=5000)] = 250.0,
             train_days: Annotated[int, Query(ge=7, le=730)] = 365,
             horizon_days: Annotated[int, Query(ge=1, le=90)] = 7,
             origins: Annotated[int, Query(ge=1, le=52)] = 4,
             area_share: Annotated[float, Query(gt=0, lt=1)] = 0.05) -> dict[str, Any]:
    """The cells flagged for the next ``horizon_days`` (WGS84 centres), with the method's measured accuracy."""
    import numpy as np

    end = until or dt.datetime.now(dt.UTC)
    days = min(train_days + horizon_days * origins + 1, MAX_WINDOW_DAYS)
    ev = _events(request, None, end, types, default_days=days)
    stamp = np.datetime64(end.astimezone(dt.UTC).replace(tzinfo=None), "s")
    return _with_wgs84(service.forecast_areas(ev, method=method, cell_m=cell_m, horizon_days=horizon_days,
                                              area_share=area_share, until=stamp, train_days=train_days,
                                              origins=origins))


@router.get("/analytics/warning")
def warning(request: Request, principal: Annotated[Principal, allow("analytics.read")],
            until: dt.datetime | None = None, recent_days: Annotated[int, Query(ge=1, le=31)] = 7,
            baseline_weeks: Annotated[int, Query(ge=1, le=104)] = 12,
            alpha: Annotated[float, Query(gt=0, lt=0.5)] = 0.01, segments: bool = True,
            prior_weeks: Annotated[float, Query(ge=0, le=520)] = 4.0) -> dict[str, Any]:
    """Traffic-accident early warning: road segments (or cells) whose recent accidents exceed their baseline."""
    import numpy as np

    from precinct.analytics.warning import accident_warning
    from precinct.city.service import current_city

    end = until or dt.datetime.now(dt.UTC)
    ev = _events(request, None, end, None, default_days=recent_days + 7 * baseline_weeks)
    graph = current_city(get_settings_dep(request)) if segments else None
    stamp = np.datetime64(end.astimezone(dt.UTC).replace(tzinfo=None), "s")
    return accident_warning(ev, until=stamp, recent_days=recent_days, baseline_weeks=baseline_weeks, alpha=alpha,
                            graph=graph, prior_weeks=prior_weeks)


@router.get("/analytics/report", response_class=HTMLResponse)
def weekly_report(request: Request, principal: Annotated[Principal, allow("analytics.read")], week: str,
                  cell_m: Annotated[float, Query(ge=50, le=5000)] = 250.0, pdf: bool = False,
                  as_json: Annotated[bool, Query(alias="json")] = False) -> Response:
    """The weekly analysis report (HTML; PDF with ``pdf=true``; its figures as JSON with ``json=true``)."""
    import tempfile
    from pathlib import Path

    from precinct.analytics import report
    from precinct.public.service import station_areas

    _, end = report.parse_week(week)
    until = end.astype(dt.datetime).replace(tzinfo=dt.UTC)
    ev = _events(request, None, until, None, default_days=800)
    with get_db(request).sessionmaker() as s:
        areas = station_areas(s)
    rep = report.build(ev, week=week, cell_m=cell_m, permutations=99, station_areas=areas)
    if as_json:
        return Response(report.to_json(rep), media_type="application/json")
    if not pdf:
        return HTMLResponse(report.render_html(rep))
    with tempfile.TemporaryDirectory() as d:
        data = report.write(rep, Path(d) / "report.pdf").read_bytes()
    return Response(data, media_type="application/pdf")
