"""``--as`` must name an existing, active user whose role may run the command."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.models import AuditRecord, User
from precinct.errors import NotAuthenticated

PASSWORD = "test-password-123"


def _users(db: Database) -> None:
    with db.session() as s:
        create_user(s, username="boss", role="admin", password=PASSWORD)
        create_user(s, username="clerk", role="call_taker", password=PASSWORD)
        create_user(s, username="victim", role="dispatcher", password=PASSWORD)
        gone = create_user(s, username="gone", role="admin", password=PASSWORD)
        gone.active = False


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli_app, args, catch_exceptions=True)


def test_unlock_needs_a_real_active_admin(db: Database) -> None:
    _users(db)
    for who in ("nobody-at-all", "gone"):
        r = _invoke(["users", "unlock", "--username", "victim", "--as", who])
        assert isinstance(r.exception, NotAuthenticated), (who, r.output)
    r = _invoke(["users", "unlock", "--username", "victim", "--as", "clerk"])
    assert r.exception is not None and r.exception.http_status == 403
    r = _invoke(["users", "unlock", "--username", "victim"])
    assert isinstance(r.exception, NotAuthenticated)
    r = _invoke(["users", "unlock", "--username", "victim", "--as", "boss"])
    assert r.exit_code == 0, r.output
    with db.sessionmaker() as s:
        actors = set(s.scalars(select(AuditRecord.actor)).all())
        assert "nobody-at-all" not in actors
        assert s.scalar(select(User).where(User.username == "victim")) is not None
        unlocks = s.scalars(select(AuditRecord).where(AuditRecord.params.contains('"unlock"'))).all()
    assert [a.actor for a in unlocks] == ["boss"]


def test_retention_run_as(db: Database) -> None:
    _users(db)
    r = _invoke(["retention", "run", "--as", "nobody-at-all"])
    assert isinstance(r.exception, NotAuthenticated)
    r = _invoke(["retention", "run", "--as", "clerk"])
    assert r.exception is not None and r.exception.http_status == 403
    assert _invoke(["retention", "run", "--as", "boss"]).exit_code == 0
    assert _invoke(["retention", "run"]).exit_code == 0  # the system actor
