"""``precinct users role`` and ``precinct users password`` (issue 21): an active administrator only;
the change is made and audited, the last active administrator stays one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.core.db import Database
from precinct.core.identity import authenticate, create_user
from precinct.core.models import AuditRecord, User
from precinct.errors import NotAuthenticated

PASSWORD = "test-password-123"


def _invoke(args: list[str], stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli_app, args, input=stdin, catch_exceptions=True)


def test_cli_role_and_password(db: Database, settings: Any) -> None:
    with db.session() as s:
        s.execute(update(User).where(User.role == "admin").values(active=False))
        create_user(s, username="chief", role="admin", password=PASSWORD)
        create_user(s, username="clerk", role="call_taker", password=PASSWORD)
    r = _invoke(["users", "role", "--username", "clerk", "--role", "dispatcher", "--as", "clerk"])
    assert r.exit_code != 0 and isinstance(r.exception, Exception)
    r = _invoke(["users", "role", "--username", "clerk", "--role", "dispatcher", "--as", "chief"])
    assert r.exit_code == 0, r.output
    r = _invoke(["users", "role", "--username", "chief", "--role", "analyst", "--as", "chief"])
    assert r.exit_code != 0 and "last active administrator" in str(r.exception)
    r = _invoke(["users", "password", "--username", "clerk", "--as", "chief"], stdin="a-new-password-9\n")
    assert r.exit_code == 0, r.output
    with db.sessionmaker() as s:
        assert s.scalar(select(User.role).where(User.username == "clerk")) == "dispatcher"
        assert s.scalar(select(User.role).where(User.username == "chief")) == "admin"
        params = [a.params for a in s.scalars(select(AuditRecord).where(AuditRecord.resource == "users"))]
    assert any('"role"' in p and "clerk" in p for p in params)
    assert any("password_reset" in p and "clerk" in p for p in params)
    assert all("a-new-password-9" not in p for p in params)
    authenticate(db, settings, username="clerk", password="a-new-password-9")
    try:
        authenticate(db, settings, username="clerk", password=PASSWORD)
    except NotAuthenticated:
        pass
    else:
        raise AssertionError("the old password still logs in")
