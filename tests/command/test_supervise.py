"""A supervisor's actions on overdue work (issue 21), through the API on SQLite and PostgreSQL:
remind an order's silent recipients (a live event they receive, history, audit, last reminder
shown), reassign a silent recipient to another unit, reassign an incident's late unit to an
available one; only a supervisor may; 404 for an unknown object, 409 for the wrong state."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.app import create_app
from precinct.command.board_policy import access_for, family_of
from precinct.command.units import upsert_unit
from precinct.config import get_settings
from precinct.core.db import Database
from precinct.core.identity import Principal, create_user
from precinct.core.models import AuditRecord
from precinct.core.roles import Role

PASSWORD = "test-password-123"
BASE = (32.49, 119.92)
_n = itertools.count()


@pytest.fixture
def api(any_db: Database, small_city: Any) -> Iterator[tuple[FastAPI, TestClient, list[tuple[str, dict[str, Any]]]]]:
    app = create_app(get_settings(), db=any_db)
    app.state.city = small_city
    with TestClient(app, raise_server_exceptions=False) as c:
        sent: list[tuple[str, dict[str, Any]]] = []
        publish = app.state.bus.publish

        def capture(subject: str, event: dict[str, Any]) -> None:
            sent.append((subject, event))
            publish(subject, event)

        app.state.bus.publish = capture
        with app.state.db.session() as s:
            for i, uid in enumerate(("P1", "P2", "P3", "P4")):
                upsert_unit(s, id=uid, station="east", lat=BASE[0] + 0.002 * i, lon=BASE[1])
        yield app, c, sent


def _login(app: FastAPI, client: TestClient, role: str, unit_id: str | None = None) -> dict[str, str]:
    name = f"s_{role}_{next(_n)}"
    with app.state.db.session() as s:
        create_user(s, username=name, role=role, password=PASSWORD, unit_id=unit_id)
    r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}", "X-User": name}


def _audits(app: FastAPI, resource: str) -> list[AuditRecord]:
    with app.state.db.sessionmaker() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.resource == resource)
                              .order_by(AuditRecord.seq)).all())


def _order(client: TestClient, disp: dict[str, str], recipients: list[str]) -> dict[str, Any]:
    r = client.post("/api/v1/orders", headers=disp, json={"title": "设卡 checkpoint", "recipients": recipients,
                                                          "deadline_minutes": 5})
    assert r.status_code == 201, r.text
    return r.json()


def test_remind_reaches_the_silent_recipients_and_is_recorded(api: Any) -> None:
    app, client, sent = api
    disp, sup = _login(app, client, "dispatcher"), _login(app, client, "supervisor")
    order = _order(client, disp, ["P1", "P2"])
    oid = order["id"]
    assert order["last_reminder"] is None
    p1 = _login(app, client, "patrol", "P1")
    assert client.post(f"/api/v1/orders/{oid}/ack", json={}, headers=p1).status_code == 200

    # only a supervisor reminds; an unknown order is 404
    assert client.post(f"/api/v1/orders/{oid}/remind", headers=disp).status_code == 403
    assert client.post("/api/v1/orders/ORD-NOPE/remind", headers=sup).status_code == 404
    sent.clear()
    r = client.post(f"/api/v1/orders/{oid}/remind", headers=sup)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["last_reminder"]["by"] == sup["X-User"] and view["last_reminder"]["to"] == ["unit:P2"]
    assert view["last_reminder"]["at"]
    assert view["history"][-1]["kind"] == "reminded" and view["history"][-1]["detail"]["to"] == ["unit:P2"]
    # the list the supervision screen reads says it too
    listed = {o["id"]: o for o in client.get("/api/v1/orders", headers=sup).json()["orders"]}
    assert listed[oid]["last_reminder"]["by"] == sup["X-User"]

    # one live event, to the order's family; the silent unit's phone receives it, another unit's not
    events = [(subj, ev) for subj, ev in sent if subj == "orders.reminded"]
    assert len(events) == 1
    subj, ev = events[0]
    assert ev["remind"] == ["unit:P2"] and ev["order_id"] == oid
    fam = family_of(subj)
    owners = fam.owners(ev) if fam.owners else None
    p2 = access_for(Principal(user_id=0, username="p2", role=Role.patrol, unit_id="P2"))
    p4 = access_for(Principal(user_id=0, username="p4", role=Role.patrol, unit_id="P4"))
    assert p2.sees(fam.action, owners) and not p4.sees(fam.action, owners)

    recs = [r for r in _audits(app, "orders") if r.params and '"remind"' in r.params]
    assert len(recs) == 1 and recs[0].actor == sup["X-User"] and "unit:P2" in recs[0].params

    # everyone acknowledged: nobody to remind (409)
    client.post(f"/api/v1/orders/{oid}/ack", json={"recipient": "P2"}, headers=sup)
    r = client.post(f"/api/v1/orders/{oid}/remind", headers=sup)
    assert r.status_code == 409 and "acknowledged" in r.text


def test_reassign_an_order_recipient(api: Any) -> None:
    app, client, sent = api
    disp, sup = _login(app, client, "dispatcher"), _login(app, client, "supervisor")
    oid = _order(client, disp, ["P1", "P2"])["id"]
    client.post(f"/api/v1/orders/{oid}/ack", json={}, headers=_login(app, client, "patrol", "P1"))
    url = f"/api/v1/orders/{oid}/reassign"
    assert client.post(url, headers=disp, json={"from_recipient": "P2", "to_recipient": "P3"}).status_code == 403
    assert client.post("/api/v1/orders/ORD-NOPE/reassign", headers=sup,
                       json={"from_recipient": "P2", "to_recipient": "P3"}).status_code == 404
    # an acknowledged recipient keeps its part (409); a non-recipient or unknown unit is 422
    r = client.post(url, headers=sup, json={"from_recipient": "P1", "to_recipient": "P3"})
    assert r.status_code == 409 and "acknowledged" in r.text
    r = client.post(url, headers=sup, json={"from_recipient": "P4", "to_recipient": "P3"})
    assert r.status_code == 422 and "from_recipient" in r.text
    r = client.post(url, headers=sup, json={"from_recipient": "P2", "to_recipient": "unit:NOPE"})
    assert r.status_code == 422 and "to_recipient" in r.text
    r = client.post(url, headers=sup, json={"from_recipient": "P2", "to_recipient": "P1"})
    assert r.status_code == 409 and "already a recipient" in r.text

    sent.clear()
    r = client.post(url, headers=sup, json={"from_recipient": "unit:P2", "to_recipient": "P3", "deadline_minutes": 30})
    assert r.status_code == 200, r.text
    view = r.json()
    assert sorted(x["recipient"] for x in view["recipients"]) == ["unit:P1", "unit:P3"]
    assert view["history"][-1]["kind"] == "reassigned"
    assert view["history"][-1]["detail"]["from"] == "unit:P2" and view["history"][-1]["detail"]["to"] == ["unit:P3"]
    # P3's phone now has the order (and it gets it live); P2's no longer
    p3 = _login(app, client, "patrol", "P3")
    assert [o["id"] for o in client.get("/api/v1/orders", headers=p3).json()["orders"]] == [oid]
    assert client.get(f"/api/v1/orders/{oid}", headers=_login(app, client, "patrol", "P2")).status_code == 404
    (subj, ev), = [(s, e) for s, e in sent if s.startswith("orders.")]
    fam = family_of(subj)
    p3_access = access_for(Principal(user_id=0, username="p3", role=Role.patrol, unit_id="P3"))
    assert p3_access.sees(fam.action, fam.owners(ev) if fam.owners else None)
    assert any('"reassign"' in (r.params or "") for r in _audits(app, "orders"))
    # the new recipient acknowledges: everyone has, the order moves to 办
    assert client.post(f"/api/v1/orders/{oid}/ack", json={}, headers=p3).json()["state"] == "handle"

    # a closed order: 409
    client.post(f"/api/v1/orders/{oid}/advance", json={"to": "supervise"}, headers=sup)
    client.post(f"/api/v1/orders/{oid}/advance", json={"to": "close"}, headers=sup)
    r = client.post(url, headers=sup, json={"from_recipient": "P1", "to_recipient": "P4"})
    assert r.status_code == 409 and "close" in r.text


def test_reassign_an_incident_unit(api: Any) -> None:
    app, client, sent = api
    disp, sup = _login(app, client, "dispatcher"), _login(app, client, "supervisor")
    r = client.post("/api/v1/calls", json={"lat": BASE[0], "lon": BASE[1], "type": "theft", "description": "x"},
                    headers=_login(app, client, "call_taker"))
    inc = r.json()["incident_id"]
    url = f"/api/v1/incidents/{inc}/reassign"
    # nobody sent yet (an overdue dispatch): reassign sends the unit
    assert client.post(url, headers=disp, json={"to_unit_id": "P1"}).status_code == 403
    assert client.post("/api/v1/incidents/INC-NOPE/reassign", headers=sup, json={"to_unit_id": "P1"}).status_code == 404
    r = client.post(url, headers=sup, json={"to_unit_id": "P1"})
    assert r.status_code == 200, r.text
    assert [(u["unit_id"], u["status"]) for u in r.json()["units"]] == [("P1", "dispatched")]
    # P1 acknowledges (en route) but is late: P2 replaces it; P1 is available again
    assert client.post(f"/api/v1/incidents/{inc}/acknowledge", json={"unit_id": "P1"}, headers=disp).status_code == 200
    sent.clear()
    r = client.post(url, headers=sup, json={"to_unit_id": "P2", "note": "P1 stuck in traffic"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {u["unit_id"]: u["status"] for u in body["units"]} == {"P1": "cleared", "P2": "dispatched"}
    assert body["status"] == "dispatched"  # waiting for the new unit, not en route
    units = {u["id"]: u["status"] for u in client.get("/api/v1/units", headers=sup).json()["units"]}
    assert units["P1"] == "available" and units["P2"] == "dispatched"
    subjects = [s for s, _ in sent]
    assert "incidents.updated" in subjects and subjects.count("units.updated") == 2
    recs = [r for r in _audits(app, "incidents") if r.params and '"reassign"' in r.params]
    assert recs and '"P2"' in recs[-1].params

    # wrong state: a busy unit, a unit not assigned, a unit on scene, a closed incident
    r = client.post(url, headers=sup, json={"to_unit_id": "P2", "from_unit_id": "P1"})
    assert r.status_code == 409
    assert client.post(url, headers=sup, json={"to_unit_id": "P1", "from_unit_id": "P4"}).status_code == 409
    r = client.post(url, headers=sup, json={"to_unit_id": "P3", "from_unit_id": "P2"})  # P3 in, P2 out
    assert r.status_code == 200
    assert client.post(f"/api/v1/incidents/{inc}/arrive", json={"unit_id": "P3"}, headers=disp).status_code == 200
    r = client.post(url, headers=sup, json={"to_unit_id": "P4", "from_unit_id": "P3"})
    assert r.status_code == 409 and "on scene" in r.text
    assert client.post(url, headers=sup, json={"to_unit_id": "NOPE"}).status_code in (409, 422)
    client.post(f"/api/v1/incidents/{inc}/clear", json={}, headers=disp)
    r = client.post(url, headers=sup, json={"to_unit_id": "P4"})
    assert r.status_code == 409 and "cleared" in r.text
