"""One-click orders: many recipients, acknowledgements, 研交办督结 with history, escalation."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.command.monitors import run_escalation
from precinct.command.orders import create_order
from precinct.core.db import utcnow


def test_order_to_station_and_units_closed_loop(client: TestClient, login, make_units) -> None:
    make_units([("P1", "patrol", 0.0, 0.0), ("P2", "patrol", 0.01, 0.0)], station="east")
    make_units([("W1", "patrol", 0.0, 0.02)], station="west")
    d = login("dispatcher")
    r = client.post(
        "/api/v1/orders",
        headers=d,
        json={
            "title": "设卡盘查 checkpoint at Renmin Rd bridge",
            "body": "stop silver van 苏M12345",
            "recipients": ["station:east", "unit:W1"],
            "deadline_minutes": 10,
            "priority": "red",
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["state"] == "assign" and order["state_zh"] == "交" and order["total"] == 3
    oid = order["id"]
    p1, w1 = login("patrol", unit_id="P1"), login("patrol", unit_id="W1")
    assert client.post(f"/api/v1/orders/{oid}/ack", json={}, headers=login("patrol", unit_id="Z9")).status_code == 403
    assert client.post(f"/api/v1/orders/{oid}/ack", json={"recipient": "unit:P2"}, headers=p1).status_code == 403
    r = client.post(f"/api/v1/orders/{oid}/ack", json={"note": "in position"}, headers=p1)
    assert r.status_code == 200 and r.json()["acknowledged"] == 1 and r.json()["state"] == "assign"
    assert client.post(f"/api/v1/orders/{oid}/ack", json={}, headers=w1).json()["acknowledged"] == 2
    # a dispatcher acknowledges for P2 (radio); all in: 交 -> 办
    r = client.post(f"/api/v1/orders/{oid}/ack", json={"recipient": "P2"}, headers=d)
    assert r.json()["state"] == "handle" and r.json()["state_zh"] == "办"
    mine = client.get("/api/v1/orders", headers=p1).json()["orders"]
    assert [o["id"] for o in mine] == [oid]
    r = client.post(f"/api/v1/orders/{oid}/advance", json={"to": "close"}, headers=d)
    assert r.status_code == 409  # 办 -> 结 skips 督
    assert client.post(f"/api/v1/orders/{oid}/advance", json={"to": "supervise"}, headers=d).status_code == 200
    assert client.post(f"/api/v1/orders/{oid}/advance", json={"to": "close"}, headers=d).status_code == 403
    sup = login("supervisor")
    r = client.post(
        f"/api/v1/orders/{oid}/advance",
        json={"to": "close", "note": "suspects caught"},
        headers=sup,
    )
    assert r.status_code == 200 and r.json()["state"] == "close" and r.json()["closed_at"]
    kinds = [(e["kind"], e["to_state"]) for e in r.json()["history"]]
    assert kinds[:2] == [("created", "analyse"), ("issued", "assign")]
    assert ("all_acknowledged", "handle") in kinds and kinds[-1] == ("state", "close")


def test_order_bad_input(client: TestClient, login, make_units) -> None:
    make_units([("P1", "patrol", 0.0, 0.0)])
    d = login("dispatcher")
    base = {"title": "t", "recipients": ["P1"], "deadline_minutes": 5}
    for body, field in [
        ({**base, "recipients": ["unit:NOPE"]}, "recipients[0]"),
        ({**base, "recipients": ["P1", "station:nowhere"]}, "recipients[1]"),
        ({**base, "recipients": ["rocket:x"]}, "recipients[0]"),
        ({**base, "deadline": "2020-01-01T00:00:00Z", "deadline_minutes": None}, "deadline"),
        ({**base, "recipients": []}, "recipients"),
    ]:
        r = client.post("/api/v1/orders", json=body, headers=d)
        assert r.status_code == 422 and field in r.text, (body, r.text)
    assert client.post("/api/v1/orders", json=base, headers=login("patrol", unit_id="P1")).status_code == 403
    assert client.get("/api/v1/orders").status_code == 401


def test_deadline_escalates_to_supervisor_once(app: FastAPI, client: TestClient, login, make_units) -> None:
    make_units([("P1", "patrol", 0.0, 0.0), ("P2", "patrol", 0.0, 0.01)])
    with app.state.db.session() as s:
        order = create_order(
            s,
            title="合围 encircle",
            body="",
            recipients=["P1", "P2"],
            deadline=utcnow() + dt.timedelta(seconds=1),
            issued_by="dispatcher_x",
            now=utcnow() - dt.timedelta(seconds=5),
        )
        oid = order.id
    import time

    time.sleep(1.2)
    first = run_escalation(app.state.db)
    assert [o["id"] for o in first] == [oid] and first[0]["escalated_at"]
    assert run_escalation(app.state.db) == []  # once
    sup = login("supervisor")
    esc = client.get("/api/v1/orders", params={"escalated": "true"}, headers=sup).json()["orders"]
    assert [o["id"] for o in esc] == [oid]
    hist = client.get(f"/api/v1/orders/{oid}", headers=sup).json()["history"]
    assert hist[-1]["kind"] == "escalated" and hist[-1]["detail"]["pending"] == [
        "unit:P1",
        "unit:P2",
    ]
