"""Login, lockout, token and idle expiry, settings that refuse default secrets."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.config import DEFAULT_SECRET, Settings
from precinct.core.models import AuditRecord, User, UserSession

from ..conftest import TEST_PASSWORD, make_user  # type: ignore[import-not-found]


def login(client: TestClient, username: str, password: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code, r.json()


def test_login_issues_short_lived_token(app: FastAPI, client: TestClient) -> None:
    name = make_user(app.state.db, "analyst")
    status, body = login(client, name, TEST_PASSWORD)
    assert status == 200 and body["token_type"] == "bearer" and body["role"] == "analyst"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == app.state.settings.token_ttl_minutes * 60 <= 3600


def test_wrong_password_and_unknown_user_look_the_same(app: FastAPI, client: TestClient) -> None:
    name = make_user(app.state.db, "analyst")
    s1, b1 = login(client, name, "wrong-password")
    s2, b2 = login(client, "nobody-here", "wrong-password")
    assert s1 == s2 == 401 and b1["message"] == b2["message"]


def test_five_failures_alert_but_never_lock_the_account(app: FastAPI, client: TestClient) -> None:
    """Lockout is per source with backoff (tests/hardening/test_sessions.py); the account itself stays
    usable, and the supervisors get an audited alert."""
    name = make_user(app.state.db, "dispatcher")
    for _ in range(5):
        status, body = login(client, name, "nope-nope-nope")
        assert status == 401 and body["error"] == "not_authenticated"
    with app.state.db.sessionmaker() as s:
        user = s.scalar(select(User).where(User.username == name))
        assert user is not None and user.locked_until is None
        alerts = s.scalars(select(AuditRecord).where(AuditRecord.resource == "auth.alert")).all()
    assert any(name in (a.params or "") or a.actor == name for a in alerts)


def test_idle_session_expires(app: FastAPI, client: TestClient) -> None:
    name = make_user(app.state.db, "analyst")
    token = login(client, name, TEST_PASSWORD)[1]["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=h).status_code == 200
    with app.state.db.session() as s:
        for row in s.scalars(select(UserSession)):
            row.last_seen = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 401 and "inactivity" in r.json()["message"]


def test_expired_and_forged_tokens_refused(app: FastAPI, client: TestClient) -> None:
    name = make_user(app.state.db, "analyst")
    token = login(client, name, TEST_PASSWORD)[1]["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = app.state.settings.secret_key.get_secret_value()
    expired = jwt.encode({**claims, "exp": int(dt.datetime.now(dt.UTC).timestamp()) - 5}, secret, algorithm="HS256")
    forged = jwt.encode({**claims, "role": "admin"}, "another-secret-of-thirty-two-bytes!", algorithm="HS256")
    for t in (expired, forged):
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {t}"}).status_code == 401


def test_logout_ends_session(app: FastAPI, client: TestClient) -> None:
    name = make_user(app.state.db, "patrol")
    h = {"Authorization": f"Bearer {login(client, name, TEST_PASSWORD)[1]['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 204
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401


def test_production_refuses_default_or_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRECINCT_ENVIRONMENT", "production")
    monkeypatch.setenv("PRECINCT_SECRET_KEY", DEFAULT_SECRET)
    with pytest.raises(ValueError, match="default"):
        Settings()
    monkeypatch.setenv("PRECINCT_SECRET_KEY", "short")
    with pytest.raises(ValueError, match="32"):
        Settings()
    monkeypatch.setenv("PRECINCT_SECRET_KEY", "x" * 40)
    assert Settings().environment == "production"


def test_admin_creates_user_over_api(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def]
    h = auth_headers("admin")
    r = client.post("/api/v1/users", headers=h, json={"username": "newbie", "role": "call_taker",
                                                       "password": "long-enough-pw"})
    assert r.status_code == 201
    r = client.post("/api/v1/users", headers=h, json={"username": "newbie", "role": "call_taker",
                                                       "password": "long-enough-pw"})
    assert r.status_code == 409 and r.json()["detail"]["field"] == "username"
    r = client.post("/api/v1/users", headers=h, json={"username": "x", "role": "wizard", "password": "p" * 9})
    assert r.status_code == 422 and r.json()["error"] == "bad_input" and "role" in r.json()["message"]


def test_refresh_renews_token_for_a_live_session_only(app: FastAPI, client: TestClient) -> None:
    name = make_user(app.state.db, "dispatcher")
    token = login(client, name, TEST_PASSWORD)[1]["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/auth/refresh", headers=h)
    assert r.status_code == 200
    new = r.json()["access_token"]
    assert jwt.decode(new, options={"verify_signature": False})["sid"] == jwt.decode(
        token, options={"verify_signature": False})["sid"]
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    with app.state.db.session() as s:
        for row in s.scalars(select(UserSession)):
            row.last_seen = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31)
    assert client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {new}"}).status_code == 401
