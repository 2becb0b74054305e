"""``precinct orders``: issue an order to many, list, run the deadline escalation once."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from precinct.calls.types import Priority
from precinct.core.clikit import AsUser, emit_json, open_db
from precinct.core.roles import Role

CLI_NAME = "orders"
app = typer.Typer(help="One-click orders (一键下达) and their 研交办督结 loop.", no_args_is_help=True)
ISSUERS = (Role.dispatcher, Role.supervisor)


@app.command("create")
def create(
    title: Annotated[str, typer.Option(help="what to do")],
    recipient: Annotated[
        list[str], typer.Option("--to", help="unit:ID, station:NAME, group:NAME, user:NAME or all (repeat)")
    ],
    minutes: Annotated[float, typer.Option("--deadline-minutes", help="deadline from now")] = 15,
    body: str = "",
    priority: Priority = Priority.orange,
    incident: str | None = None,
    as_user: AsUser = None,
) -> None:
    """Issue one order to many recipients; each must acknowledge before the deadline."""
    from precinct.core.access import cli_principal
    from precinct.core.db import utcnow
    from precinct.orders.service import create_order, order_view

    db = open_db()
    principal = cli_principal(db, as_user, ISSUERS, resource="orders")
    with db.session() as s:
        order = create_order(
            s,
            title=title,
            body=body,
            recipients=recipient,
            deadline=utcnow() + dt.timedelta(minutes=minutes),
            issued_by=principal.username,
            priority=priority,
            incident_id=incident,
        )
        emit_json(order_view(s, order))


@app.command("list")
def list_cmd(as_user: AsUser = None, state: str | None = None, escalated: bool | None = None) -> None:
    """Orders, newest first (JSON)."""
    from precinct.core.access import cli_principal
    from precinct.orders.service import list_orders, order_view

    db = open_db()
    cli_principal(db, as_user, (*ISSUERS, Role.patrol), resource="orders")
    with db.sessionmaker() as s:
        emit_json([order_view(s, o) for o in list_orders(s, state=state, escalated=escalated)])


@app.command("escalate")
def escalate(as_user: AsUser = None) -> None:
    """Escalate overdue orders now (the API server also does this every 10 seconds)."""
    from precinct.core.access import cli_principal
    from precinct.orders.flows import run_escalation

    db = open_db()
    cli_principal(db, as_user, (*ISSUERS, Role.admin), resource="orders")
    emit_json(run_escalation(db))
