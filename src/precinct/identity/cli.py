"""``precinct users``: create and unlock accounts."""

from __future__ import annotations

import sys

import typer

from precinct.core.clikit import AsUser, open_db
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
