"""Dispatch: recommendations by road time, the state machine, patrol devices, positions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from precinct.command.models import Assignment

BASE = (32.49, 119.92)


def new_incident(client: TestClient, h: dict[str, str], type: str = "armed_robbery", **kw) -> str:
    body = {
        "lat": BASE[0],
        "lon": BASE[1],
        "type": type,
        "caller_phone": "13900001111",
        "description": "持刀抢劫便利店",
    }
    body.update(kw)
    r = client.post("/api/v1/calls", json=body, headers=h)
    assert r.status_code == 201, r.text
    return str(r.json()["incident_id"])


def test_recommendations_ranked_by_road_time(client: TestClient, login, make_units) -> None:
    make_units(
        [
            ("P1", "patrol", 0.010, 0.0),
            ("P2", "patrol", 0.002, 0.0),
            ("P3", "patrol", -0.006, 0.004),
            ("S1", "special", 0.008, -0.008),
            ("T1", "traffic", 0.001, 0.001),
        ]
    )
    h = login("dispatcher")
    iid = new_incident(client, h)
    r = client.get(f"/api/v1/incidents/{iid}/recommendations", headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    recs = out["recommendations"]
    etas = [x["eta_s"] for x in recs]
    assert etas == sorted(etas) and all(e > 0 for e in etas)
    assert out["eta_source"] == "road"
    assert {x["unit_id"] for x in recs} == {"P1", "P2", "P3", "S1"}  # traffic is not in the plan
    assert recs[0]["unit_id"] == "P2"
    plan = {p["unit_type"]: p for p in out["plan"]}
    assert plan["patrol"]["needed"] == 2 and len(plan["patrol"]["suggested"]) == 2
    assert plan["special"]["suggested"] == ["S1"]
    assert out["response_level"] == 1
    every = client.get(f"/api/v1/incidents/{iid}/recommendations?all_types=true", headers=h).json()
    assert "T1" in {x["unit_id"] for x in every["recommendations"]}
    assert client.get("/api/v1/incidents/INC-none/recommendations", headers=h).status_code == 404


def test_full_lifecycle_with_patrol_device(client: TestClient, login, make_units, app) -> None:
    make_units([("P1", "patrol", 0.003, 0.0), ("P2", "patrol", 0.004, 0.001)])
    d = login("dispatcher")
    iid = new_incident(client, d, type="theft")
    # impossible transitions before dispatch
    r = client.post(f"/api/v1/incidents/{iid}/clear", json={"unit_id": "P1"}, headers=d)
    assert r.status_code == 409 and "never dispatched" in r.json()["message"]
    r = client.post(f"/api/v1/incidents/{iid}/dispatch", json={"unit_ids": ["P1", "NOPE"]}, headers=d)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "unit_ids[1]"
    with app.state.db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Assignment)) == 0  # all or nothing
    r = client.post(f"/api/v1/incidents/{iid}/dispatch", json={"unit_ids": ["P1"]}, headers=d)
    assert r.status_code == 201 and r.json()["status"] == "dispatched"
    assert r.json()["assignments"][0]["eta_s"] > 0
    r = client.post(f"/api/v1/incidents/{iid}/dispatch", json={"unit_ids": ["P1"]}, headers=d)
    assert r.status_code == 409  # P1 is busy
    # the patrol device of P1 acknowledges, arrives, clears; P2's device may not act for P1
    p1 = login("patrol", unit_id="P1")
    p2 = login("patrol", unit_id="P2")
    assert client.post(f"/api/v1/incidents/{iid}/acknowledge", json={}, headers=p2).status_code == 409
    assert client.post(f"/api/v1/incidents/{iid}/acknowledge", json={"unit_id": "P1"}, headers=p2).status_code == 403
    assert client.post(f"/api/v1/incidents/{iid}/arrive", json={}, headers=p1).status_code == 200
    r = client.post(f"/api/v1/incidents/{iid}/arrive", json={}, headers=p1)
    assert r.status_code == 409
    assert client.post(f"/api/v1/incidents/{iid}/close", json={"disposition": "x"}, headers=d).status_code == 409
    r = client.post(f"/api/v1/incidents/{iid}/clear", json={"note": "suspect gone"}, headers=p1)
    assert r.status_code == 200 and r.json()["status"] == "cleared"
    assert client.get("/api/v1/units/P1", headers=d).json()["status"] == "available"
    r = client.post(f"/api/v1/incidents/{iid}/close", json={"disposition": "report_taken"}, headers=d)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    inc = client.get(f"/api/v1/incidents/{iid}", headers=d).json()
    assert [e["to_status"] for e in inc["history"] if e["to_status"]] == [
        "new",
        "dispatched",
        "on_scene",
        "cleared",
        "closed",
    ]
    assert inc["dispatched_at"] and inc["on_scene_at"] and inc["cleared_at"] and inc["closed_at"]
    assert inc["timers"]["time_to_dispatch_s"] >= 0 and inc["timers"]["overdue"] is False
    r = client.post(f"/api/v1/incidents/{iid}/dispatch", json={"unit_ids": ["P2"]}, headers=d)
    assert r.status_code == 409  # closed


def test_en_route_and_multi_unit_clear(client: TestClient, login, make_units) -> None:
    make_units(
        [
            ("P1", "patrol", 0.003, 0.0),
            ("P2", "patrol", 0.004, 0.001),
            ("S1", "special", 0.0, 0.005),
        ]
    )
    d = login("dispatcher")
    iid = new_incident(client, d)
    h = {**d, "Idempotency-Key": "disp-1"}
    first = client.post(f"/api/v1/incidents/{iid}/dispatch", json={"unit_ids": ["P1", "P2", "S1"]}, headers=h)
    again = client.post(f"/api/v1/incidents/{iid}/dispatch", json={"unit_ids": ["P1", "P2", "S1"]}, headers=h)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    r = client.post(f"/api/v1/incidents/{iid}/acknowledge", json={"unit_id": "P2"}, headers=d)
    assert r.json()["status"] == "en_route"
    r = client.post(f"/api/v1/incidents/{iid}/clear", json={"unit_id": "P2"}, headers=d)
    assert r.json()["status"] == "en_route"  # others still assigned
    r = client.post(f"/api/v1/incidents/{iid}/clear", json={}, headers=d)  # everyone else
    assert r.status_code == 200 and r.json()["status"] == "cleared"
    units = {u["id"]: u["status"] for u in client.get("/api/v1/units", headers=d).json()["units"]}
    assert set(units.values()) == {"available"}


def test_positions_units_and_access(client: TestClient, login, make_units) -> None:
    make_units([("P1", "patrol", 0.0, 0.0)])
    p1 = login("patrol", unit_id="P1")
    r = client.post("/api/v1/units/P1/position", json={"lat": BASE[0] + 0.01, "lon": BASE[1]}, headers=p1)
    assert r.status_code == 200 and abs(r.json()["lat"] - BASE[0] - 0.01) < 1e-9
    assert client.post("/api/v1/units/P1/position", json={"lat": 95, "lon": 0}, headers=p1).status_code == 422
    other = login("patrol", unit_id="P9")
    assert client.post("/api/v1/units/P1/position", json={"lat": 1, "lon": 1}, headers=other).status_code == 403
    d = login("dispatcher")
    assert client.post("/api/v1/units/NOPE/position", json={"lat": 1, "lon": 1}, headers=d).status_code == 404
    r = client.post("/api/v1/units", json={"id": "K9", "unit_type": "spaceship"}, headers=d)
    assert r.status_code == 422 and "unit_type" in r.text
    assert client.post("/api/v1/units", json={"id": "T7", "unit_type": "traffic"}, headers=d).status_code == 201
    assert client.post("/api/v1/units", json={"id": "T8"}, headers=login("call_taker")).status_code == 403
    r = client.post("/api/v1/units/P1/status", json={"status": "out_of_service"}, headers=p1)
    assert r.status_code == 200 and r.json()["status"] == "out_of_service"
    assert client.get("/api/v1/units", headers=d).status_code == 200
    assert client.get("/api/v1/units").status_code == 401
