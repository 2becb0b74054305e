"""Object-level access, generated from the route table: every route that takes an object id and
performs an ``owner_scoped`` action of the policy is tried by its owner and by another unit."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from precinct.app import iter_routes
from precinct.command.units import upsert_unit
from precinct.core.access import AccessRule
from precinct.core.identity import create_user
from precinct.core.policy import rule_for

PASSWORD = "test-password-123"
_n = itertools.count()


def _walk(dependant: Any) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _walk(dep)


def owner_scoped_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, action) of every route with a path id whose action is owner-scoped."""
    out = []
    for path, methods, route in iter_routes(app):
        if not isinstance(route, APIRoute) or "{" not in path:
            continue
        rules = [c for c in _walk(route.dependant) if isinstance(c, AccessRule) and c.action]
        for rule in rules[:1]:
            if rule.action and rule_for(rule.action).owner_scoped:
                out.extend((m, path, rule.action) for m in sorted(methods))
    return out


# (method, path) -> how to call it as the owner (patrol of unit P1) and as another unit (P2):
# returns (url, json body); the object belongs to P1.
Scenario = Callable[[dict[str, str]], tuple[str, dict[str, Any] | None]]
UNIT_STEP = {"unit_id": "P1"}
SCENARIOS: dict[tuple[str, str], Callable[[dict[str, str]], tuple[str, Any]]] = {
    ("GET", "/api/v1/orders/{order_id}"): lambda o: (f"/api/v1/orders/{o['order']}", None),
    ("POST", "/api/v1/orders/{order_id}/ack"): lambda o: (f"/api/v1/orders/{o['order']}/ack", {}),
    ("POST", "/api/v1/incidents/{incident_id}/acknowledge"): lambda o: ("/api/v1/incidents/I-none/acknowledge",
                                                                       UNIT_STEP),
    ("POST", "/api/v1/incidents/{incident_id}/arrive"): lambda o: ("/api/v1/incidents/I-none/arrive", UNIT_STEP),
    ("POST", "/api/v1/incidents/{incident_id}/clear"): lambda o: ("/api/v1/incidents/I-none/clear", UNIT_STEP),
    ("POST", "/api/v1/units/{unit_id}/position"): lambda o: ("/api/v1/units/P1/position",
                                                             {"lat": 32.49, "lon": 119.92}),
    ("POST", "/api/v1/units/{unit_id}/status"): lambda o: ("/api/v1/units/P1/status", {"status": "available"}),
    # scene attachments and the route (issue 19): a patrol unit reaches only incidents it was sent to
    # (tests/command/test_attachments.py tries them on a real dispatch)
    ("POST", "/api/v1/incidents/{incident_id}/attachments"): lambda o: ("/api/v1/incidents/I-none/attachments",
                                                                       {"note": "x"}),
    ("GET", "/api/v1/incidents/{incident_id}/attachments"): lambda o: ("/api/v1/incidents/I-none/attachments", None),
    ("GET", "/api/v1/incidents/{incident_id}/attachments/{attachment_id}"): lambda o: (
        "/api/v1/incidents/I-none/attachments/ATT-none", None),
    ("GET", "/api/v1/incidents/{incident_id}/route"): lambda o: ("/api/v1/incidents/I-none/route", None),
    # a case's notes and photos: its lead and members only (tests/cases/test_attachments.py tries a
    # real case with members and outsiders); here a case that does not exist ("I-none": no object)
    ("POST", "/api/v1/cases/{case_id}/attachments"): lambda o: ("/api/v1/cases/I-none/attachments", {"note": "x"}),
    ("GET", "/api/v1/cases/{case_id}/attachments"): lambda o: ("/api/v1/cases/I-none/attachments", None),
    ("GET", "/api/v1/cases/{case_id}/attachments/{attachment_id}"): lambda o: (
        "/api/v1/cases/I-none/attachments/ATT-none", None),
}


def _login(app: FastAPI, client: TestClient, role: str, unit_id: str | None = None) -> dict[str, str]:
    name = f"h_{role}_{next(_n)}"
    with app.state.db.session() as s:
        create_user(s, username=name, role=role, password=PASSWORD, unit_id=unit_id)
    r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_every_owner_scoped_route_has_a_scenario(app: FastAPI) -> None:
    routes = owner_scoped_routes(app)
    assert routes, "no owner-scoped route found: the walk is broken"
    missing = [(m, p) for m, p, _ in routes if (m, p) not in SCENARIOS]
    assert not missing, f"owner-scoped routes without an object-level test: {missing}"


@pytest.fixture
def objects(app: FastAPI, client: TestClient) -> dict[str, str]:
    with app.state.db.session() as s:
        for uid in ("P1", "P2"):
            upsert_unit(s, id=uid, station="east", lat=32.49, lon=119.92)
    r = client.post("/api/v1/orders", headers=_login(app, client, "dispatcher"),
                    json={"title": "checkpoint", "body": "for P1 only", "recipients": ["unit:P1"],
                          "deadline_minutes": 30})
    assert r.status_code == 201, r.text
    return {"order": r.json()["id"]}


def test_owner_and_not_owner(app: FastAPI, client: TestClient, objects: dict[str, str]) -> None:
    owner = _login(app, client, "patrol", unit_id="P1")
    other = _login(app, client, "patrol", unit_id="P2")
    for method, path, action in owner_scoped_routes(app):
        url, body = SCENARIOS[(method, path)](objects)
        mine = client.request(method, url, json=body, headers=owner)
        theirs = client.request(method, url, json=body, headers=other)
        assert mine.status_code not in (403, 404) or "I-none" in url, (path, mine.text)
        assert mine.status_code != 403, (path, mine.text)
        assert theirs.status_code in (403, 404), (path, action, theirs.status_code, theirs.text)
        if theirs.status_code == 404 and "I-none" not in url:
            assert theirs.json()["error"] == "not_found"
