"""The live driver plays a scenario into the app through its HTTP API only."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.core.identity import create_user
from precinct.core.roles import Role
from precinct.sim import accounts
from precinct.sim.accounts import demo_password
from precinct.sim.api import ApiClient
from precinct.sim.demo import ensure_demo_users
from precinct.sim.live import LiveDriver


def test_missing_route_switches_the_stream_off_once(
    client: TestClient, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with app.state.db.session() as s:
        for role in (Role.admin, Role.dispatcher):
            create_user(s, username=role.value, role=role, password=demo_password(role))
    passwords = {r.value: demo_password(r) for r in (Role.admin, Role.dispatcher)}
    api = ApiClient("http://testserver", passwords, http=client)
    with caplog.at_level(logging.WARNING, logger="precinct.sim.live"):
        assert api.request("future", "admin", "POST", "/no-such-route", json={}) is None
        assert api.request("future", "admin", "POST", "/no-such-route", json={}) is None
    assert "future" in api.disabled
    assert len([r for r in caplog.records if "no-such-route" in r.getMessage()]) == 1
    # A missing *resource* is an error of that call, not a missing route.
    assert api.request("units", "dispatcher", "GET", "/units/NOPE") is None
    assert "units" not in api.disabled


def test_driver_feeds_calls_dispatches_units_and_reads(
    client: TestClient, app: FastAPI, city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        accounts,
        "FLEET",
        (
            accounts.Squad("P", "patrol", "car", 3, "巡逻", "车巡队", (3, 0, 0)),
            accounts.Squad("S", "special", "car", 1, "特警", "特警队", (1, 0, 0)),
        ),
    )
    app.state.city = city
    passwords = ensure_demo_users(app.state.db)
    api = ApiClient("http://testserver", passwords, http=client)
    driver = LiveDriver(api, city, seed=3, speed=1e5, days=1, reads_per_day=3000, calls_per_day=300, start_hour=8.0)
    driver.prepare()
    driver._wall0, driver._mono0 = time.time(), time.monotonic()
    t = driver.t_start
    driver.position_every_s = 0.0  # steps here are simulated, not paced by the wall clock
    while t < driver.t_start + 3 * 3600:
        t += 600
        driver.step(t)
    assert not api.disabled, api.disabled
    s = driver.stats
    assert s["calls"] > 20 and s["dispatches"] > 3 and s["reads"] > 100 and s["positions"] > 3
    assert s["cleared"] > 0
    token = client.post(
        "/api/v1/auth/token", data={"username": "dispatcher", "password": demo_password(Role.dispatcher)}
    )
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    units = client.get("/api/v1/units", headers=h).json()
    units = units.get("units", units) if isinstance(units, dict) else units
    assert {u["id"] for u in units} >= {"P01", "P02", "P03", "S01"}
    incidents = client.get("/api/v1/incidents", headers=h).json()["incidents"]
    assert len(incidents) > 10
    assert any(i.get("dispatched_at") for i in incidents)


def test_a_restarted_driver_closes_the_jobs_left_open(
    client: TestClient, app: FastAPI, city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "FLEET", (accounts.Squad("P", "patrol", "car", 3, "巡逻", "车巡队", (3, 0, 0)),))
    app.state.city = city
    passwords = ensure_demo_users(app.state.db)

    def driver() -> LiveDriver:
        api = ApiClient("http://testserver", passwords, http=client)
        d = LiveDriver(api, city, seed=3, speed=1e5, days=1, reads_per_day=300, calls_per_day=300, start_hour=8.0)
        d.prepare()
        d._wall0, d._mono0 = time.time(), time.monotonic()
        return d

    first = driver()
    t = first.t_start
    while not any(u.state in ("enroute", "onscene") for u in first.fleet.units.values()):
        t += 300
        first.step(t)
        assert t < first.t_start + 6 * 3600, "no unit was ever sent"
    busy = {u.id for u in first.fleet.units.values() if u.state in ("enroute", "onscene")}
    second = driver()  # the demo restarted on the same data directory, mid-job
    token = client.post(
        "/api/v1/auth/token", data={"username": "dispatcher", "password": demo_password(Role.dispatcher)}
    )
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    units = {u["id"]: u for u in client.get("/api/v1/units", headers=h).json()["units"]}
    assert all(units[uid]["status"] == "available" and units[uid]["incident_id"] is None for uid in busy)
    for step in range(1, 13):  # and it can send those units again
        second.step(t + step * 600)
    assert second.api.errors == 0 and second.stats["dispatches"] > 0
