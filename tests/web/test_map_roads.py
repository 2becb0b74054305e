"""GET /api/v1/map/roads: the road network for the dashboard's offline map."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from precinct.config import Settings


def test_no_city_yet_is_a_clear_404(client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    r = client.get("/api/v1/map/roads", headers=auth_headers("dispatcher"))
    assert r.status_code == 404
    assert "city build" in r.json()["message"]


def test_roads_as_columns_for_every_role(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                         settings: Settings) -> None:
    from precinct.city import service
    from precinct.city.road import RoadGraph

    g = RoadGraph.synthetic(size_km=2, seed=3)
    service.store(g, {"source": "synthetic", "size_km": 2, "seed": 3}, settings)
    service.clear_cache()
    assert client.get("/api/v1/map/roads").status_code == 401
    r = client.get("/api/v1/map/roads", headers=auth_headers("auditor"))
    assert r.status_code == 200, r.text
    body = r.json()
    seg = g.edge_segments()
    assert set(body) == {"lat1", "lon1", "lat2", "lon2", "road_class"}
    assert len(body["lat1"]) == len(seg["lat1"]) > 100
    assert all(len(body[k]) == len(body["lat1"]) for k in body)
    assert abs(body["lat1"][0] - float(seg["lat1"][0])) < 1e-6
    assert body["road_class"][0] == int(seg["road_class"][0])
    assert r.headers["cache-control"].startswith("private")
