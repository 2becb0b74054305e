"""Read-only routes the dashboard needs that no domain serves (mounted by ``precinct.app``).

``GET /api/v1/map/roads``: the road network for the map, as columns (``lat1, lon1, lat2, lon2,
road_class``, one entry per physical segment), so the map draws with no internet. It serves the
city the server already has (loaded by a domain, or cached under the data directory by
``precinct city build`` / the demo) and never builds one itself.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from precinct.core.access import allow, get_settings_dep
from precinct.core.identity import Principal
from precinct.core.roles import Role
from precinct.errors import NotFound

router = APIRouter(tags=["dashboard"])


def _city(request: Request) -> Any | None:
    city = getattr(request.app.state, "city", None)
    if city is not None and hasattr(city, "edge_segments"):
        return city
    from precinct.city import service

    if not service.graph_path(get_settings_dep(request)).exists():
        return None
    return service.current_city(get_settings_dep(request))


@router.get("/map/roads", responses={404: {"description": "no road network built yet"}})
def map_roads(request: Request, principal: Annotated[Principal, allow(*Role)]) -> Response:
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
