"""A database that once ran the demo does not start in production while demo accounts are active."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from precinct.app import create_app
from precinct.cli import app as cli_app
from precinct.config import get_settings
from precinct.core.db import Database
from precinct.core.identity import DEMO_MARK, create_user, demo_accounts
from precinct.core.models import User
from precinct.errors import ConfigurationError

PASSWORD = "test-password-123"
SECRET = "s" * 40


def _production(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PRECINCT_ENVIRONMENT", "production")
    monkeypatch.setenv("PRECINCT_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    return get_settings()


def test_production_refuses_active_demo_accounts(any_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with any_db.session() as s:
        create_user(s, username="real", role="admin", password=PASSWORD, display_name="Officer Real")
        create_user(s, username="admin", role="admin", password=PASSWORD, display_name=f"{DEMO_MARK}demo admin")
        create_user(s, username="old", role="patrol", password=PASSWORD, display_name="demo patrol")  # legacy
    with any_db.sessionmaker() as s:
        assert demo_accounts(s) == ["admin", "old"]
    settings = _production(monkeypatch)
    with pytest.raises(ConfigurationError) as err:
        create_app(settings, db=any_db, migrate=False)
    assert "demo account" in err.value.message and "admin" in err.value.message
    with any_db.session() as s:
        for u in s.query(User).filter(User.username.in_(["admin", "old"])):
            u.active = False
    create_app(settings, db=any_db, migrate=False)  # starts once they are disabled


def test_not_production_starts_with_demo_accounts(db: Database) -> None:
    with db.session() as s:
        create_user(s, username="admin", role="admin", password=PASSWORD, display_name=f"{DEMO_MARK}demo admin")
    create_app(get_settings(), db=db, migrate=False)


def test_serve_refuses_with_a_clear_message(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.session() as s:
        create_user(s, username="admin", role="admin", password=PASSWORD, display_name=f"{DEMO_MARK}demo admin")
    _production(monkeypatch)
    import uvicorn

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(a))
    r = CliRunner().invoke(cli_app, ["serve"])
    assert isinstance(r.exception, ConfigurationError)
    assert "refusing to start in production" in r.exception.message
    assert started == []
