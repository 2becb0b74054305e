"""Shared fixtures: settings on a temporary data dir, migrated databases (SQLite and PostgreSQL),
the app and a client, and users of every role with their bearer tokens."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from precinct.app import create_app
from precinct.config import Settings, get_settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from support import ensure_test_case

PG_URL = os.environ.get("PRECINCT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("PRECINCT_REQUIRE_POSTGRES") == "1"
TEST_PASSWORD = "test-password-123"
_counter = itertools.count()


def _postgres_available() -> str | None:
    """None if a PostgreSQL server answers, else the reason it does not."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"no PostgreSQL server at {make_url(PG_URL).render_as_string(hide_password=True)}: {type(exc).__name__}"


_PG_REASON: str | bool | None = False


def postgres_skip_reason() -> str | None:
    global _PG_REASON
    if _PG_REASON is False:
        _PG_REASON = _postgres_available()
    reason = _PG_REASON
    if reason and REQUIRE_PG:
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    return reason if isinstance(reason, str) else None


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("PRECINCT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRECINCT_ENVIRONMENT", "test")
    monkeypatch.delenv("PRECINCT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    s = get_settings()
    s.ensure_dirs()
    yield s
    get_settings.cache_clear()


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_settings(settings)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    name = f"precinct_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_db(pg_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("PRECINCT_DATABASE_URL", pg_url)
    get_settings.cache_clear()
    database = Database(pg_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Database]:
    """The operations database on both engines."""
    if request.param == "sqlite":
        yield request.getfixturevalue("db")
    else:
        yield request.getfixturevalue("pg_db")


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(get_settings(), db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def make_user(database: Database, role: str, username: str | None = None, unit_id: str | None = None) -> str:
    username = username or f"{role}{next(_counter)}"
    with database.session() as s:
        create_user(s, username=username, role=role, password=TEST_PASSWORD, unit_id=unit_id)
    return username


@pytest.fixture
def auth_headers(app: FastAPI, client: TestClient) -> Callable[..., dict[str, str]]:
    """``auth_headers(role, case=None, purpose=None)``: headers for a fresh user of ``role``.

    With ``case``, that case is made a real open case with the user on it (``ensure_test_case``).
    """
    tokens: dict[str, str] = {}
    users: dict[str, str] = {}
    cases_made: set[tuple[str, str, str | None]] = set()

    def _headers(role: str, case: str | None = None, purpose: str | None = None,
                 username: str | None = None) -> dict[str, str]:
        key = username or role
        if key not in tokens:
            name = users[key] = make_user(app.state.db, role, username=username)
            r = client.post("/api/v1/auth/token", data={"username": name, "password": TEST_PASSWORD})
            assert r.status_code == 200, r.text
            tokens[key] = r.json()["access_token"]
        h = {"Authorization": f"Bearer {tokens[key]}"}
        if case is not None:
            if (case, key, purpose) not in cases_made:  # a real open case with the caller on it
                ensure_test_case(app.state.db, case, users[key], purpose)
                cases_made.add((case, key, purpose))
            h["X-Case-Id"] = case
        if purpose is not None:
            h["X-Purpose"] = purpose
        return h

    return _headers
