"""Sessions: idle from the last request, an absolute limit, one answer for every failed login,
no lockout an outsider can cause, case-insensitive usernames, atomic failure counting."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.identity import THROTTLE, authenticate, create_user
from precinct.core.models import AuditRecord, User, UserSession
from precinct.errors import Conflict, NotAuthenticated

PASSWORD = "test-password-123"


def _login(client: TestClient, username: str, password: str = PASSWORD) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code, r.json()


def _age_session(app: FastAPI, *, created: float, seen: float) -> None:
    now = dt.datetime.now(dt.UTC)
    with app.state.db.session() as s:
        for row in s.scalars(select(UserSession)):
            row.created_at = now - dt.timedelta(minutes=created)
            row.last_seen = now - dt.timedelta(minutes=seen)


def test_idle_counts_from_the_last_request_and_the_session_has_an_end(app: FastAPI, client: TestClient) -> None:
    with app.state.db.session() as s:
        create_user(s, username="active1", role="analyst", password=PASSWORD)
    token = _login(client, "active1")[1]["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    _age_session(app, created=45, seen=1)  # logged in 45 min ago (idle limit 30), active a minute ago
    assert client.get("/api/v1/auth/me", headers=h).status_code == 200
    assert client.post("/api/v1/auth/refresh", headers=h).status_code == 200
    _age_session(app, created=13 * 60, seen=1)  # active, but past the 12-hour limit
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 401 and "time limit" in r.json()["message"]
    assert client.post("/api/v1/auth/refresh", headers=h).status_code == 401


def test_one_answer_for_every_failed_login(app: FastAPI, client: TestClient) -> None:
    with app.state.db.session() as s:
        create_user(s, username="known1", role="analyst", password=PASSWORD)
        locked = create_user(s, username="locked1", role="analyst", password=PASSWORD)
        locked.locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        gone = create_user(s, username="gone1", role="analyst", password=PASSWORD)
        gone.active = False
    answers = [_login(client, "known1", "wrong-password"), _login(client, "nobody1", "wrong-password"),
               _login(client, "locked1", PASSWORD), _login(client, "gone1", PASSWORD)]
    assert {a[0] for a in answers} == {401}
    assert len({(a[1]["error"], a[1]["message"], str(a[1]["detail"])) for a in answers}) == 1


def test_outsiders_cannot_lock_a_user_out(app: FastAPI, client: TestClient) -> None:
    THROTTLE._state.clear()
    with app.state.db.session() as s:
        create_user(s, username="victim1", role="admin", password=PASSWORD)
    db, settings = app.state.db, app.state.settings
    for _ in range(8):  # an attacker hammers from one source
        with pytest.raises(NotAuthenticated):
            authenticate(db, settings, username="victim1", password="guess-guess", source="203.0.113.9")
    # the attacker's source must now wait, even with the right password (and gets the same answer)
    with pytest.raises(NotAuthenticated):
        authenticate(db, settings, username="victim1", password=PASSWORD, source="203.0.113.9")
    # the user, from elsewhere, still gets in
    user, _token = authenticate(app.state.db, app.state.settings, username="victim1", password=PASSWORD,
                                source="198.51.100.7")
    assert user.username == "victim1"
    with app.state.db.sessionmaker() as s:
        alerts = s.scalars(select(AuditRecord).where(AuditRecord.resource == "auth.alert")).all()
        assert [a.actor for a in alerts] == ["victim1"]  # the supervisors hear of it
        assert s.scalar(select(User.locked_until).where(User.username == "victim1")) is None


def test_usernames_unique_case_insensitively(db: Database) -> None:
    with db.session() as s:
        create_user(s, username="victim1", role="analyst", password=PASSWORD)
    for other in ("Victim1", "VICTIM1", "ｖｉｃｔｉｍ１"):  # the last is full-width (NFKC)
        with pytest.raises(Conflict), db.session() as s:
            create_user(s, username=other, role="analyst", password=PASSWORD)


def test_failed_logins_counted_atomically(any_db: Database, settings: Settings) -> None:
    THROTTLE._state.clear()
    with any_db.session() as s:
        create_user(s, username="counted1", role="analyst", password=PASSWORD)
    n_threads, each = 4, 3

    def attempt(i: int) -> None:
        for j in range(each):
            with contextlib.suppress(NotAuthenticated):
                authenticate(any_db, settings, username="counted1", password="wrong-password",
                             source=f"10.0.{i}.{j}")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with any_db.sessionmaker() as s:
        assert s.scalar(select(User.failed_logins).where(User.username == "counted1")) == n_threads * each
