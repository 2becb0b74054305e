"""GET /api/v1/map/isochrone: the reachable area for the map, checked against networkx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from precinct.config import Settings

URL = "/api/v1/map/isochrone"


@pytest.fixture
def city(settings: Settings) -> Any:
    from precinct.city import service
    from precinct.city.road import RoadGraph

    g = RoadGraph.synthetic(size_km=3, seed=5)
    service.store(g, {"source": "synthetic", "size_km": 3, "seed": 5}, settings)
    service.clear_cache()
    yield g
    service.clear_cache()


def _central_node(g: Any) -> int:
    lat0, lon0 = float(np.median(g.node_lat)), float(np.median(g.node_lon))
    return int(np.argmin((g.node_lat - lat0) ** 2 + (g.node_lon - lon0) ** 2))


def _reference(g: Any, src: int, weights: np.ndarray, cutoff: float, directed: bool) -> dict[int, float]:
    """Shortest times from ``src`` by networkx Dijkstra (parallel edges: the cheapest)."""
    G: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    for u, v, w in zip(g.tail.tolist(), g.head.tolist(), weights.tolist(), strict=True):
        if not G.has_edge(u, v) or G[u][v]["w"] > w:
            G.add_edge(u, v, w=w)
    return dict(nx.single_source_dijkstra_path_length(G, src, cutoff=cutoff, weight="w"))


def _check_against_reference(g: Any, band: dict[str, Any], times: dict[int, float], budget: float,
                             walk: bool) -> None:
    poly = shapely.geometry.shape(band["geometry"])
    reached = np.array([n for n, t in times.items() if t <= budget * 0.999])
    assert reached.size > 10
    # Every node networkx reaches within the budget lies inside the polygon.
    inside = shapely.contains_xy(poly, g.node_lon[reached], g.node_lat[reached])
    assert inside.all(), f"{(~inside).sum()} reachable nodes outside the band"
    # Nodes far from every road the budget can touch lie outside: the band is the reached road
    # pieces widened by at most two cells (50 m driving, 25 m walking), so 250 m clears it.
    reached_set = {int(n) for n, t in times.items() if t < budget}
    xy = g.node_xy
    touched = [i for i, (a, b) in enumerate(zip(g.tail.tolist(), g.head.tolist(), strict=True))
               if a in reached_set or (walk and b in reached_set)]
    lines = shapely.linestrings(np.stack([xy[g.tail[touched]], xy[g.head[touched]]], axis=1))
    tree = shapely.STRtree(lines)
    _, dist = tree.query_nearest(shapely.points(xy), return_distance=True, all_matches=False)
    far_idx = np.flatnonzero(dist > 250)
    assert far_idx.size > 10, "the budget reaches the whole test city: pick a smaller one"
    outside = ~shapely.contains_xy(poly, g.node_lon[far_idx], g.node_lat[far_idx])
    assert outside.all(), f"{(~outside).sum()} nodes far from any reachable road inside the band"
    # The geodesic area agrees with the planar area in the city's local metric frame.
    planar = shapely.transform(poly, lambda c: np.column_stack(g.frame.to_xy(c[:, 1], c[:, 0]))).area / 1e6
    assert band["properties"]["area_km2"] == pytest.approx(planar, rel=0.01)


def test_drive_bands_match_networkx(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                    city: Any) -> None:
    src = _central_node(city)
    lat, lon = float(city.node_lat[src]), float(city.node_lon[src])
    r = client.get(URL, params={"lat": lat, "lon": lon, "seconds": [60, 150]},
                   headers=auth_headers("patrol"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["mode"] == "drive"
    assert [f["properties"]["seconds"] for f in body["features"]] == [150, 60]  # largest first
    big, small = (shapely.geometry.shape(f["geometry"]) for f in body["features"])
    assert big.area > small.area and big.buffer(1e-9).contains(small)
    w = city.weights("time")
    times = _reference(city, src, w, 150, directed=True)
    for f in body["features"]:
        _check_against_reference(city, f, times, f["properties"]["seconds"], walk=False)


def test_walk_band_matches_networkx(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                    city: Any) -> None:
    src = _central_node(city)
    lat, lon = float(city.node_lat[src]), float(city.node_lon[src])
    r = client.get(URL, params={"lat": lat, "lon": lon, "seconds": 600, "mode": "walk", "speed_mps": 1.5},
                   headers=auth_headers("dispatcher"))
    assert r.status_code == 200, r.text
    (band,) = r.json()["features"]
    assert band["properties"]["mode"] == "walk"
    w = city.length_m / 1.5
    times = _reference(city, src, w, 600, directed=False)
    _check_against_reference(city, band, times, 600, walk=True)


@pytest.mark.parametrize(("params", "needle"), [
    ({"lat": 95, "lon": 119.9, "seconds": 60}, "lat"),
    ({"lat": 32.49, "lon": 119.9}, "seconds"),
    ({"lat": 32.49, "lon": 119.9, "seconds": 0}, "seconds[0]"),
    ({"lat": 32.49, "lon": 119.9, "seconds": [60, 4000]}, "seconds[1]"),
    ({"lat": 32.49, "lon": 119.9, "seconds": [60] * 7}, "seconds"),
    ({"lat": 32.49, "lon": 119.9, "seconds": "nan"}, "seconds[0]"),
    ({"lat": 32.49, "lon": 119.9, "seconds": [60, "inf"]}, "seconds[1]"),
    ({"lat": "nan", "lon": 119.9, "seconds": 60}, "lat"),
    ({"lat": 32.49, "lon": 119.9, "seconds": "5min"}, "seconds"),
    ({"lat": 32.49, "lon": 119.9, "seconds": 60, "mode": "fly"}, "mode"),
    ({"lat": 32.49, "lon": 119.9, "seconds": 60, "speed_mps": 1.0}, "speed_mps"),
    ({"lat": 32.49, "lon": 119.9, "seconds": 60, "mode": "walk", "hour": 8}, "hour"),
    ({"lat": 0.0, "lon": 0.0, "seconds": 60}, "isochrone origin"),
])
def test_bad_input_is_a_clear_422(client: TestClient, auth_headers: Callable[..., dict[str, str]], city: Any,
                                  params: dict[str, Any], needle: str) -> None:
    r = client.get(URL, params=params, headers=auth_headers("dispatcher"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert set(body) == {"error", "message", "detail"}
    assert needle in r.text


def test_no_city_is_a_404_and_roles_are_checked(client: TestClient,
                                                auth_headers: Callable[..., dict[str, str]]) -> None:
    params = {"lat": 32.49, "lon": 119.92, "seconds": 60}
    assert client.get(URL, params=params).status_code == 401
    assert client.get(URL, params=params, headers=auth_headers("auditor")).status_code == 403
    r = client.get(URL, params=params, headers=auth_headers("analyst"))
    assert r.status_code == 404
    assert "city build" in r.json()["message"]
