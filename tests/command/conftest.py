"""Fixtures of the command domain's tests (intake, dispatch, orders): logins of any role
(patrol users bound to a unit), units, a small city, a live server."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.command.units import upsert_unit
from precinct.core.identity import create_user
from support import ensure_test_case

PASSWORD = "test-password-123"
_n = itertools.count()
# The centre of the synthetic test city (WGS84).
BASE = (32.49, 119.92)


@pytest.fixture(scope="session")
def small_city():
    """A 4 km synthetic city, built once per test session."""
    from precinct.city import RoadGraph

    return RoadGraph.synthetic(size_km=4, seed=1, center=BASE)


@pytest.fixture(autouse=True)
def _city(request: pytest.FixtureRequest) -> None:
    """Every app in these tests routes on the small city (no 15 km default build)."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app").state.city = request.getfixturevalue("small_city")


@pytest.fixture
def login(app: FastAPI, client: TestClient) -> Callable[..., dict[str, str]]:
    """``login(role, unit_id=None, case=None, purpose=None)`` -> headers of a fresh user."""

    def _login(
        role: str, unit_id: str | None = None, case: str | None = None, purpose: str | None = None
    ) -> dict[str, str]:
        name = f"{role}_{next(_n)}"
        with app.state.db.session() as s:
            create_user(s, username=name, role=role, password=PASSWORD, unit_id=unit_id)
        r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        if case:
            ensure_test_case(app.state.db, case, name, purpose)  # a real open case with the user on it
            h["X-Case-Id"] = case
        if purpose:
            h["X-Purpose"] = purpose
        return h

    return _login


@pytest.fixture
def make_units(app: FastAPI) -> Callable[..., list[str]]:
    """``make_units([(id, type, dlat, dlon), ...])`` around BASE; returns the ids."""

    def _make(spec: list[tuple[str, str, float, float]], station: str = "east") -> list[str]:
        with app.state.db.session() as s:
            for uid, utype, dlat, dlon in spec:
                upsert_unit(
                    s,
                    id=uid,
                    unit_type=utype,
                    station=station,
                    group=utype,
                    lat=BASE[0] + dlat,
                    lon=BASE[1] + dlon,
                )
        return [u[0] for u in spec]

    return _make


@pytest.fixture
def live_server(app: FastAPI):
    """The app served by uvicorn on a free loopback port in a thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_token(app: FastAPI, live_server: str) -> Callable[..., str]:
    """``live_token(role, unit_id=None)``: a new user's bearer token from the live server."""
    import httpx

    def _token(role: str, unit_id: str | None = None) -> str:
        name = f"{role}_live_{next(_n)}"
        with app.state.db.session() as s:
            create_user(s, username=name, role=role, password=PASSWORD, unit_id=unit_id)
        r = httpx.post(f"{live_server}/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    return _token
