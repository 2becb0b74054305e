"""``precinct users``: create and unlock accounts, change a role, reset a password."""

from __future__ import annotations

import sys

import typer

from precinct.core.clikit import AsUser, open_db
from precinct.core.db import Database
from precinct.core.roles import Role
from precinct.errors import BadInput

CLI_NAME = "users"
app = typer.Typer(help="Manage Precinct user accounts.", no_args_is_help=True)


@app.command("create")
def create(
    username: str = typer.Option(..., "--username", help="login name"),
    role: Role = typer.Option(..., "--role", help="one of: " + ", ".join(r.value for r in Role)),
    password: str | None = typer.Option(None, "--password", help="password (default: read from stdin)"),
    display_name: str | None = typer.Option(None, "--name", help="display name"),
    unit_id: str | None = typer.Option(None, "--unit", help="unit the user belongs to (patrol devices)"),
) -> None:
    """Create a user. The password comes from --password or the first line of stdin."""
    if password is None:
        if sys.stdin.isatty():
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise BadInput("no password given (use --password or pipe it on stdin)", detail={"field": "password"})
    from precinct.core.identity import create_user

    db = open_db()
    with db.session() as s:
        user = create_user(s, username=username, role=role, password=password,
                           display_name=display_name, unit_id=unit_id)
        typer.echo(f"created user {user.username} ({user.role})")


@app.command("unlock")
def unlock(
    username: str = typer.Option(..., "--username", help="account to unlock"),
    as_user: AsUser = None,
) -> None:
    """Clear a lockout after repeated failed logins (``--as`` an active administrator)."""
    from precinct.core.access import cli_principal
    from precinct.core.identity import unlock_user

    db = open_db()
    principal = cli_principal(db, as_user, "users.manage")
    with db.session() as s:
        unlock_user(s, username=username, actor=principal.username)
    typer.echo(f"unlocked {username}")


def _user_id(db: Database, username: str) -> int:
    from sqlalchemy import select

    from precinct.core.models import User
    from precinct.errors import NotFound

    with db.sessionmaker() as s:
        uid = s.scalar(select(User.id).where(User.username == username))
    if uid is None:
        raise NotFound(f"no user {username!r}", detail={"field": "username"})
    return int(uid)


@app.command("role")
def role(
    username: str = typer.Option(..., "--username", help="account to change"),
    new_role: Role = typer.Option(..., "--role", help="one of: " + ", ".join(r.value for r in Role)),
    as_user: AsUser = None,
) -> None:
    """Give an account another role; its sessions end (``--as`` an active administrator; the last
    active administrator cannot be demoted)."""
    from precinct.core.access import cli_principal
    from precinct.identity.accounts import change_role

    db = open_db()
    principal = cli_principal(db, as_user, "users.manage")
    uid = _user_id(db, username)
    with db.session() as s:
        user, ended = change_role(s, user_id=uid, role=new_role, principal=principal)
        typer.echo(f"{user.username} is now {user.role}; {len(ended)} session(s) ended")


@app.command("password")
def password(
    username: str = typer.Option(..., "--username", help="account whose password is reset"),
    as_user: AsUser = None,
) -> None:
    """Reset an account's password (read from the first line of stdin, or prompted); its sessions
    end and a lockout is cleared (``--as`` an active administrator)."""
    from precinct.core.access import cli_principal
    from precinct.identity.accounts import reset_password

    db = open_db()
    principal = cli_principal(db, as_user, "users.manage")
    uid = _user_id(db, username)
    if sys.stdin.isatty():
        new = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    else:
        new = sys.stdin.readline().rstrip("\r\n")
    with db.session() as s:
        user, ended = reset_password(s, user_id=uid, password=new, principal=principal)
        typer.echo(f"password of {user.username} reset; {len(ended)} session(s) ended")
