"""Patrol services and API on a small synthetic city."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from precinct.patrol import service, solvers
from precinct.patrol.demand import Points
from precinct.patrol.network import drive_matrix, response_matrix

city_mod = pytest.importorskip("precinct.city")
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def graph() -> Any:
    return city_mod.RoadGraph.synthetic(size_km=4, seed=3)


@pytest.fixture
def city(graph: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    import precinct.city.service as cs

    monkeypatch.setattr(cs, "current_city", lambda settings=None: graph)
    return graph


def demand_points(graph: Any, n: int = 150, seed: int = 0) -> Points:
    rng = np.random.default_rng(seed)
    idx = rng.choice(graph.n_nodes, n, replace=False)
    ts = [(NOW - dt.timedelta(days=float(d))).isoformat() for d in rng.uniform(0, 40, n)]
    return Points(graph.node_lat[idx].copy(), graph.node_lon[idx].copy(), rng.integers(1, 6, n).astype(float),
                  [str(i) for i in range(n)], ts)


def test_posts_on_roads_are_exact_and_beat_current(graph: Any) -> None:
    dem = demand_points(graph)
    cur = Points(graph.node_lat[:3].copy(), graph.node_lon[:3].copy(), np.ones(3), ["a", "b", "c"])
    out = service.plan_posts(graph=graph, demand=dem, posts=3, objective="pcenter", current=cur)
    assert out["gap"] == 0 and len(out["posts"]) == 3
    assert out["max_response_s"] <= out["before"]["max_s"] + 1e-9
    # the same answer as the cost-matrix solver on an independently built matrix
    a = drive_matrix(graph)
    dn = np.unique(graph.nearest_nodes(dem.lat, dem.lon))
    cand = service.default_candidates(graph, dem)
    ref = solvers.p_center(response_matrix(a, dn, cand), 3)
    assert out["max_response_s"] == pytest.approx(ref.value, abs=1e-6)
    assert abs(sum(h["share"] for h in out["after"]["histogram"]) - 1) < 1e-9
    kinds = {f["properties"]["kind"] for f in out["geojson"]["features"]}
    assert {"post", "current_post", "demand"} <= kinds


def test_mclp_and_pmedian_on_roads(graph: Any) -> None:
    dem = demand_points(graph, 80, seed=1)
    m = service.plan_posts(graph=graph, demand=dem, posts=2, objective="mclp", minutes=3)
    assert 0 <= m["covered_share"] <= 1 and m["gap"] == 0
    p = service.plan_posts(graph=graph, demand=dem, posts=2, objective="pmedian")
    assert p["gap"] == 0
    assert p["mean_response_s"] <= service.plan_posts(graph=graph, demand=dem, posts=2,
                                                      objective="pcenter")["mean_response_s"] + 1e-6


def test_zones_cover_every_reachable_node_and_balance(graph: Any) -> None:
    rng = np.random.default_rng(4)
    idx = rng.choice(graph.n_nodes, 4, replace=False)
    posts = Points(graph.node_lat[idx].copy(), graph.node_lon[idx].copy(), np.ones(4), list("abcd"))
    plain = service.plan_zones(graph=graph, posts=posts, segments=False)
    bal = service.plan_zones(graph=graph, posts=posts, balance=True, segments=True)
    assert bal["imbalance"] <= plain["imbalance"] + 1e-9
    assert sum(z["nodes"] for z in plain["zones"]) + plain["unassigned_nodes"] == graph.n_nodes
    assert any(f["geometry"]["type"] == "MultiLineString" for f in bal["geojson"]["features"])


def test_voronoi_is_the_fastest_post(graph: Any) -> None:
    from precinct.patrol import zones

    a = drive_matrix(graph)
    posts = np.array([5, graph.n_nodes // 2, graph.n_nodes - 7])
    z = zones.network_voronoi(a, posts)
    t = zones.post_times(a, posts)
    ok = z.node_zone >= 0
    assert np.allclose(t[z.node_zone[ok], np.flatnonzero(ok)], t[:, ok].min(axis=0))


def test_risk_grid_rates_and_records_changes(db: Any, graph: Any) -> None:
    dem = demand_points(graph, 200)
    with db.session() as s:
        first = service.rate_risk_grid(s, incidents=dem, now=NOW, actor="t", bbox=graph.bbox)
    assert first["counts"]["red"] > 0 and first["counts"]["green"] > 0
    assert all(c["from"] is None for c in first["changes"])
    later = Points(dem.lat[:40], dem.lon[:40], dem.weight[:40] * 10, dem.ids[:40],
                   [NOW.isoformat()] * 40)
    with db.session() as s:
        second = service.rate_risk_grid(s, incidents=later, now=NOW + dt.timedelta(days=1), actor="t",
                                        bbox=graph.bbox)
        hist = service.risk_history(s)
    assert second["changes"]
    assert len(hist) == len(first["changes"]) + len(second["changes"])


def test_checkpoints_service_payload(graph: Any) -> None:
    rng = np.random.default_rng(2)
    idx = rng.choice(graph.n_nodes, 8, replace=False)
    units = [service.UnitPos(id=f"U{i}", lat=float(graph.node_lat[v]), lon=float(graph.node_lon[v]))
             for i, v in enumerate(idx)]
    c = int(np.argmin((graph.node_lat - graph.node_lat.mean()) ** 2 + (graph.node_lon - graph.node_lon.mean()) ** 2))
    out = service.plan_checkpoints(graph=graph, lat=float(graph.node_lat[c]), lon=float(graph.node_lon[c]),
                                   seen_at=NOW - dt.timedelta(minutes=1), now=NOW, units=units, k=4,
                                   horizon_min=6, n_routes=100)
    assert out["order"]["recipients"] == [f"unit:{cp['unit_id']}" for cp in out["checkpoints"]]
    assert len(out["checkpoints"]) <= 4
    for cp in out["checkpoints"]:
        assert cp["margin_s"] >= 0
    ev = out["evaluation"]
    assert 0 <= ev["nearest_junction_share"] <= 1 and 0 <= ev["intercepted_share"] <= 1


def test_api_routes(city: Any, client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    dem = demand_points(city, 60)
    pts = list(zip(dem.lat.tolist(), dem.lon.tolist(), strict=True))
    body = {"demand": [{"lat": a, "lon": b, "priority": "red"} for a, b in pts],
            "posts": 2, "objective": "pcenter",
            "current_posts": [{"lat": float(dem.lat[0]), "lon": float(dem.lon[0])}]}
    r = client.post("/api/v1/patrol/posts", json=body, headers=auth_headers("supervisor"))
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["gap"] == 0 and j["before"]["max_s"] >= j["max_response_s"]
    assert client.post("/api/v1/patrol/posts", json=body, headers=auth_headers("call_taker")).status_code == 403
    assert client.post("/api/v1/patrol/posts", json=body).status_code == 401

    r = client.post("/api/v1/patrol/risk-grid", headers=auth_headers("analyst"),
                    json={"incidents": [{"lat": float(a), "lon": float(b), "ts": t, "priority": "orange"}
                                        for a, b, t in zip(dem.lat, dem.lon, dem.ts or [], strict=False)],
                          "now": NOW.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["geojson"]["features"]
    h = client.get("/api/v1/patrol/risk-grid/history", headers=auth_headers("analyst"))
    assert h.status_code == 200 and h.json()["history"]

    search = {"lat": float(dem.lat[1]), "lon": float(dem.lon[1]),
              "seen_at": (NOW - dt.timedelta(minutes=30)).isoformat(),
              "now": NOW.isoformat(), "ahead_min": 15,
              "places": [{"id": f"cam{i}", "kind": "camera", "lat": float(a), "lon": float(b)}
                         for i, (a, b) in enumerate(zip(dem.lat[2:12], dem.lon[2:12], strict=False))]
              + [{"id": "h1", "kind": "hospital", "name": "City Hospital", "lat": float(dem.lat[20]),
                  "lon": float(dem.lon[20])}]}
    assert client.post("/api/v1/patrol/missing-person", json=search,
                       headers=auth_headers("dispatcher")).status_code == 403  # no case / purpose
    assert client.post("/api/v1/patrol/missing-person", json=search,
                       headers=auth_headers("dispatcher", case="C-1", purpose="investigation")).status_code == 403
    r = client.post("/api/v1/patrol/missing-person", json=search,
                    headers=auth_headers("dispatcher", case="C-1", purpose="missing_person"))
    assert r.status_code == 200, r.text
    j = r.json()
    walk = [c["walk_s"] for c in j["cameras"]]
    assert walk == sorted(walk) and j["rings"] and j["rings"][0]["past"]
    audit = client.get("/api/v1/audit/records", headers=auth_headers("auditor", case="C-1", purpose="audit_review"),
                       params={"case_id": "C-1"})
    assert audit.status_code == 200
    assert any(rec["resource"] == "patrol.missing_person" and rec["outcome"] == "ok"
               for rec in audit.json()["records"])

    units = [{"id": f"U{i}", "lat": a, "lon": b} for i, (a, b) in enumerate(pts[30:36])]
    r = client.post("/api/v1/patrol/checkpoints", headers=auth_headers("dispatcher"),
                    json={"lat": float(dem.lat[5]), "lon": float(dem.lon[5]), "seen_at": NOW.isoformat(),
                          "now": NOW.isoformat(), "units": units, "k": 3, "horizon_min": 5, "evaluate": False})
    assert r.status_code == 200, r.text
    assert set(r.json()["order"]) >= {"recipients", "instructions", "deadline"}


def test_issue_goes_through_orders_module(city: Any, client: TestClient,
                                          auth_headers: Callable[..., dict[str, str]]) -> None:
    """With ``issue`` the orders module validates recipients: unknown units are refused, nothing issued."""
    rng = np.random.default_rng(8)
    idx = rng.choice(city.n_nodes, 6, replace=False)
    units = [{"id": f"NOPE{i}", "lat": float(city.node_lat[v]), "lon": float(city.node_lon[v])}
             for i, v in enumerate(idx)]
    seen = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)).isoformat()  # orders need a future deadline
    body = {"lat": float(city.node_lat[idx[0]]), "lon": float(city.node_lon[idx[0]]), "seen_at": seen,
            "units": units, "k": 3, "horizon_min": 5, "evaluate": False, "issue": True}
    r = client.post("/api/v1/patrol/checkpoints", headers=auth_headers("dispatcher"), json=body)
    if r.status_code == 200:  # no checkpoint was feasible, so nothing was issued
        assert r.json()["checkpoints"] == [] and "order_ids" not in r.json()
    else:
        assert r.status_code == 422 and "recipients" in r.text
