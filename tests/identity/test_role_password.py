"""An administrator changes a user's role and resets a password; a user changes their own password
(issue 21), over the API on SQLite and PostgreSQL: the user's sessions end (the old token is
refused), the new role or password is what works afterwards, the last active administrator can be
neither demoted nor disabled, only an administrator may, and the audit log records each change
without the password."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from precinct.app import create_app
from precinct.config import get_settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.models import AuditRecord, User

PASSWORD = "first-password-1"
_n = itertools.count()


@pytest.fixture
def api(any_db: Database) -> Iterator[tuple[FastAPI, TestClient]]:
    app = create_app(get_settings(), db=any_db)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield app, c


def _user(app: FastAPI, role: str) -> tuple[str, int]:
    name = f"rp_{role}_{next(_n)}"
    with app.state.db.session() as s:
        u = create_user(s, username=name, role=role, password=PASSWORD)
        return name, u.id


def _token(client: TestClient, name: str, password: str = PASSWORD) -> dict[str, str] | None:
    r = client.post("/api/v1/auth/token", data={"username": name, "password": password})
    return {"Authorization": f"Bearer {r.json()['access_token']}"} if r.status_code == 200 else None


def _audit(app: FastAPI, name: str) -> list[AuditRecord]:
    with app.state.db.sessionmaker() as s:
        return [a for a in s.scalars(select(AuditRecord).where(AuditRecord.resource == "users")
                                     .order_by(AuditRecord.seq)) if name in (a.params or "")]


def test_role_change_ends_sessions_and_is_audited(api: tuple[FastAPI, TestClient]) -> None:
    app, client = api
    admin = _token(client, _user(app, "admin")[0])
    name, uid = _user(app, "dispatcher")
    own = _token(client, name)
    assert admin and own and client.get("/api/v1/auth/me", headers=own).json()["role"] == "dispatcher"
    # only an administrator; unknown user 404; unknown role 422
    assert client.post(f"/api/v1/users/{uid}/role", headers=own, json={"role": "admin"}).status_code == 403
    assert client.post("/api/v1/users/999999/role", headers=admin, json={"role": "analyst"}).status_code == 404
    assert client.post(f"/api/v1/users/{uid}/role", headers=admin, json={"role": "king"}).status_code == 422

    r = client.post(f"/api/v1/users/{uid}/role", headers=admin, json={"role": "analyst"})
    assert r.status_code == 200 and r.json()["role"] == "analyst" and r.json()["username"] == name
    assert client.get("/api/v1/auth/me", headers=own).status_code == 401  # the session ended
    again = _token(client, name)
    assert again and client.get("/api/v1/auth/me", headers=again).json()["role"] == "analyst"
    rec = _audit(app, name)[-1]
    params = json.loads(rec.params)
    assert params["op"] == "role" and (params["from"], params["to"]) == ("dispatcher", "analyst")
    assert params["sessions_ended"] >= 1 and rec.action == "administration"


def test_password_reset_ends_sessions_clears_lockout_not_audited(api: tuple[FastAPI, TestClient]) -> None:
    app, client = api
    admin = _token(client, _user(app, "admin")[0])
    name, uid = _user(app, "patrol")
    own = _token(client, name)
    assert admin and own
    with app.state.db.session() as s:  # locked out after failed logins
        s.execute(update(User).where(User.id == uid).values(
            failed_logins=5, locked_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)))
    listed = {u["id"]: u for u in client.get("/api/v1/users", headers=admin).json()}
    assert listed[uid]["locked"] is True
    assert client.post(f"/api/v1/users/{uid}/password", headers=own, json={"password": "x" * 12}).status_code == 403
    assert client.post(f"/api/v1/users/{uid}/password", headers=admin, json={"password": "short"}).status_code == 422
    assert client.post("/api/v1/users/999999/password", headers=admin, json={"password": "y" * 12}).status_code == 404

    new = "second-password-2"
    r = client.post(f"/api/v1/users/{uid}/password", headers=admin, json={"password": new})
    assert r.status_code == 200 and r.json()["locked"] is False
    assert client.get("/api/v1/auth/me", headers=own).status_code == 401
    assert _token(client, name) is None and _token(client, name, new) is not None
    with app.state.db.sessionmaker() as s:
        assert s.get(User, uid).failed_logins == 0
    recs = _audit(app, name)
    assert recs and "password_reset" in recs[-1].params
    assert all(new not in a.params for a in recs)


def test_last_active_admin_cannot_be_demoted_or_disabled(api: tuple[FastAPI, TestClient]) -> None:
    app, client = api
    with app.state.db.session() as s:  # other tests' administrators step aside
        s.execute(update(User).where(User.role == "admin").values(active=False))
    name, uid = _user(app, "admin")
    me = _token(client, name)
    assert me
    r = client.post(f"/api/v1/users/{uid}/role", headers=me, json={"role": "supervisor"})
    assert r.status_code == 409 and "last active administrator" in r.json()["message"]
    # a second admin: demoting the first is allowed now, the second then is the last
    other, oid = _user(app, "admin")
    r = client.post(f"/api/v1/users/{uid}/role", headers=me, json={"role": "supervisor"})
    assert r.status_code == 200 and r.json()["role"] == "supervisor"
    assert client.get("/api/v1/auth/me", headers=me).status_code == 401  # own sessions end too
    them = _token(client, other)
    assert them
    assert client.post(f"/api/v1/users/{oid}/role", headers=them, json={"role": "analyst"}).status_code == 409
    # two active admins: one may disable the other; then the one left is the last
    third, tid = _user(app, "admin")
    t3 = _token(client, third)
    assert t3
    assert client.post(f"/api/v1/users/{oid}/active", headers=t3, json={"active": False}).status_code == 200
    r = client.post(f"/api/v1/users/{tid}/role", headers=t3, json={"role": "analyst"})
    assert r.status_code == 409 and "last active administrator" in r.json()["message"]
    assert client.post(f"/api/v1/users/{tid}/active", headers=t3, json={"active": False}).status_code == 409
    # a disabled admin does not count: enabled again, the third may be demoted
    assert client.post(f"/api/v1/users/{oid}/active", headers=t3, json={"active": True}).status_code == 200
    assert client.post(f"/api/v1/users/{tid}/role", headers=t3, json={"role": "analyst"}).status_code == 200


def test_own_password_change(api: tuple[FastAPI, TestClient]) -> None:
    app, client = api
    name, _uid = _user(app, "call_taker")
    first, second = _token(client, name), _token(client, name)
    assert first and second
    url = "/api/v1/auth/password"
    r = client.post(url, headers=first, json={"current_password": "wrong-password", "new_password": "n" * 12})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "current_password"
    r = client.post(url, headers=first, json={"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422
    r = client.post(url, headers=first, json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "new_password"
    assert client.post(url, json={"current_password": PASSWORD, "new_password": "n" * 12}).status_code == 401
    new = "my-own-new-pass-3"
    r = client.post(url, headers=first, json={"current_password": PASSWORD, "new_password": new})
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=first).status_code == 200  # this session stays
    assert client.get("/api/v1/auth/me", headers=second).status_code == 401  # the other ends
    assert _token(client, name) is None and _token(client, name, new) is not None
    recs = _audit(app, name)
    assert "own_password" in recs[-1].params and all(new not in a.params and PASSWORD not in a.params
                                                     for a in recs)
