"""Disabling, enabling and unlocking accounts over the API (issue 21's administrator screen)."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.core.models import AuditRecord, User

from ..conftest import TEST_PASSWORD, make_user  # type: ignore[import-not-found]


def _login(client: TestClient, username: str) -> int:
    return client.post("/api/v1/auth/token", data={"username": username, "password": TEST_PASSWORD}).status_code


def _uid(app: FastAPI, username: str) -> int:
    with app.state.db.sessionmaker() as s:
        return int(s.scalar(select(User.id).where(User.username == username)))


def test_disable_ends_login_and_sessions_enable_restores(app: FastAPI, client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def]
    h = auth_headers("admin")
    name = make_user(app.state.db, "dispatcher")
    token = client.post("/api/v1/auth/token", data={"username": name, "password": TEST_PASSWORD}).json()["access_token"]
    own = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=own).status_code == 200
    uid = _uid(app, name)
    r = client.post(f"/api/v1/users/{uid}/active", headers=h, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["username"] == name
    assert _login(client, name) == 401
    assert client.get("/api/v1/auth/me", headers=own).status_code == 401  # the live session ends too
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=h).json()}
    assert listed[name]["active"] is False
    r = client.post(f"/api/v1/users/{uid}/active", headers=h, json={"active": True})
    assert r.status_code == 200 and r.json()["active"] is True
    assert _login(client, name) == 200
    with app.state.db.sessionmaker() as s:
        q = select(AuditRecord).where(AuditRecord.resource == "users").order_by(AuditRecord.seq)
        params = [json.loads(a.params) if isinstance(a.params, str) else a.params for a in s.scalars(q)]
    ops = [p.get("op") for p in params if p and p.get("username") == name]
    assert ops[-2:] == ["disable", "enable"]


def test_disable_refuses_self_unknown_and_non_admin(app: FastAPI, client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def]
    h = auth_headers("admin")
    me = client.get("/api/v1/auth/me", headers=h).json()["username"]
    r = client.post(f"/api/v1/users/{_uid(app, me)}/active", headers=h, json={"active": False})
    assert r.status_code == 409 and r.json()["detail"]["field"] == "user_id"
    r = client.post("/api/v1/users/999999/active", headers=h, json={"active": False})
    assert r.status_code == 404 and "999999" in r.json()["message"]
    r = client.post(f"/api/v1/users/{_uid(app, me)}/active", headers=h, json={})
    assert r.status_code == 422
    victim = make_user(app.state.db, "analyst")
    r = client.post(f"/api/v1/users/{_uid(app, victim)}/active", headers=auth_headers("supervisor"),
                    json={"active": False})
    assert r.status_code == 403 and _login(client, victim) == 200


def test_unlock_clears_a_lockout(app: FastAPI, client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def]
    name = make_user(app.state.db, "call_taker")
    with app.state.db.session() as s:
        u = s.scalar(select(User).where(User.username == name))
        u.locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        u.failed_logins = 7
    h = auth_headers("admin")
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=h).json()}
    assert listed[name]["locked"] is True
    assert _login(client, name) == 401
    r = client.post(f"/api/v1/users/{_uid(app, name)}/unlock", headers=h)
    assert r.status_code == 200 and r.json()["locked"] is False
    assert _login(client, name) == 200
