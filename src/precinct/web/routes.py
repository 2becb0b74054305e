"""Read-only routes the dashboard needs that no domain serves (mounted by ``precinct.app``).

``GET /api/v1/map/isochrone``: the area reachable from a point within one or more time budgets
(driving or walking), as GeoJSON bands for the map's isochrone layer, on top of
:meth:`precinct.city.RoadGraph.isochrone`.

``GET /api/v1/map/roads``: the road network for the map, as columns (``lat1, lon1, lat2, lon2,
road_class``, one entry per physical segment), so the map draws with no internet. It serves the
city the server already has (loaded by a domain, or cached under the data directory by
``precinct city build`` / the demo) and never builds one itself.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from precinct.city.service import RoadNetwork, built_city
from precinct.core.access import allow, get_settings_dep
from precinct.core.identity import Principal
from precinct.errors import BadInput, NotFound

WALK_MPS = 1.2  # a person walking (the patrol domain's missing-person default)

router = APIRouter(tags=["dashboard"])


def _city(request: Request) -> RoadNetwork | None:
    city = getattr(request.app.state, "city", None)
    if city is not None and hasattr(city, "edge_segments"):
        return city
    return built_city(get_settings_dep(request))


@router.get("/map/roads", responses={404: {"description": "no road network built yet"}})
def map_roads(request: Request, principal: Annotated[Principal, allow("map.roads")]) -> Response:
    """The road network as columns of segment end points (WGS84, 6 decimals) and road classes
    (0 motorway … 6 service)."""
    city = _city(request)
    if city is None:
        raise NotFound("no road network yet: run `precinct city build` (the demo builds one)")
    cache = getattr(request.app.state, "map_roads_cache", None)
    if cache is None or cache[0] is not city:
        seg = city.edge_segments()
        body = {k: [round(float(v), 6) for v in seg[k]] for k in ("lat1", "lon1", "lat2", "lon2")}
        body["road_class"] = [int(v) for v in seg["road_class"]]
        cache = (city, json.dumps(body, separators=(",", ":")).encode())
        request.app.state.map_roads_cache = cache
    return Response(cache[1], media_type="application/json", headers={"Cache-Control": "private, max-age=300"})


MAX_BANDS = 6
MAX_DRIVE_S = 3600.0
MAX_WALK_S = 4 * 3600.0


@router.get("/map/isochrone", responses={
    404: {"description": "no road network built yet"},
    422: {"description": "bad coordinates, budgets or mode; a point off the roads"}})
def map_isochrone(
    request: Request,
    principal: Annotated[Principal, allow("city.map")],
    lat: Annotated[float, Query(ge=-90, le=90, description="origin latitude (WGS84)")],
    lon: Annotated[float, Query(ge=-180, le=180, description="origin longitude (WGS84)")],
    seconds: Annotated[list[float], Query(min_length=1, max_length=MAX_BANDS,
                                          description="time budgets in seconds, one band each (repeat the parameter)")],
    mode: Annotated[Literal["drive", "walk"], Query(description="drive (one-ways, congestion) or walk")] = "drive",
    speed_mps: Annotated[float | None, Query(gt=0, le=5, description="walking speed (walk only; default 1.2)")] = None,
    hour: Annotated[int | None, Query(ge=0, le=23, description="hour of day for driving congestion")] = None,
) -> dict[str, Any]:
    """The area reachable from a point within each time budget, as GeoJSON polygons (lon/lat).

    One feature per budget, largest first (so smaller bands draw on top), each with ``seconds``,
    ``minutes`` and ``area_km2`` (geodesic, WGS84). Not personal data: a place and a time budget.
    """
    limit = MAX_WALK_S if mode == "walk" else MAX_DRIVE_S
    for i, s in enumerate(seconds):
        if not (math.isfinite(s) and 0 < s <= limit):
            raise BadInput(f"seconds[{i}] must be in (0, {limit:.0f}] for mode {mode}, got {s!r}",
                           detail={"field": "seconds", "index": i, "value": str(s)})
    if mode == "drive" and speed_mps is not None:
        raise BadInput("speed_mps applies to mode=walk only", detail={"field": "speed_mps"})
    if mode == "walk" and hour is not None:
        raise BadInput("hour applies to mode=drive only", detail={"field": "hour"})
    city = _city(request)
    if city is None:
        raise NotFound("no road network yet: run `precinct city build` (the demo builds one)")
    from pyproj import Geod
    from shapely.geometry import mapping

    walk_mps = (speed_mps or WALK_MPS) if mode == "walk" else None
    snap = city.snap(lat, lon, what="isochrone origin")
    geod = Geod(ellps="WGS84")
    features = []
    for s in sorted(set(seconds), reverse=True):
        geom = city.isochrone(lat, lon, s, hour=hour, speed_mps=walk_mps)
        area = abs(geod.geometry_area_perimeter(geom)[0]) / 1e6
        features.append({"type": "Feature", "geometry": mapping(geom),
                         "properties": {"kind": "isochrone", "seconds": s, "minutes": round(s / 60, 2),
                                        "area_km2": round(area, 4), "mode": mode}})
    return {"type": "FeatureCollection", "features": features,
            "origin": {"lat": lat, "lon": lon, "snapped_lat": snap.lat, "snapped_lon": snap.lon,
                       "snap_distance_m": round(snap.distance_m, 1)},
            "mode": mode, "speed_mps": walk_mps, "hour": hour}
