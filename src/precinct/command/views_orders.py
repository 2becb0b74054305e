"""Orders: issue one order to many, acknowledge, move through 研交办督结, see escalations."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from precinct.command import orders as svc
from precinct.command import views_supervise
from precinct.command.common import publish
from precinct.command.idempotency import idempotent_reply
from precinct.command.monitors import CHECK_EVERY_S, escalation_loop
from precinct.command.schemas import OrderAck, OrderAdvance, OrderCreate
from precinct.command.views_common import IdemKey
from precinct.core.access import allow, get_db
from precinct.core.db import utcnow
from precinct.core.identity import Principal
from precinct.core.roles import Role

router = APIRouter(tags=["orders"])
router.include_router(views_supervise.router)  # remind / reassign overdue work (issue 21)


def _publish(request: Request, subject: str, view: dict[str, Any]) -> None:
    publish(request.app.state.bus, subject, {"order_id": view["id"], "order": view})


@router.post("/orders", status_code=201)
def create_order(
    request: Request, body: OrderCreate, principal: Annotated[Principal, allow("orders.create")]
) -> dict[str, Any]:
    """Issue an order to many recipients at once (一键下达)."""
    deadline = body.deadline or utcnow() + dt.timedelta(minutes=body.deadline_minutes or 0)
    with get_db(request).session() as s:
        order = svc.create_order(
            s,
            title=body.title,
            body=body.body,
            recipients=body.recipients,
            deadline=deadline,
            issued_by=principal.username,
            priority=body.priority,
            incident_id=body.incident_id,
            draft=body.draft,
        )
        view = svc.order_view(s, order, with_history=True)
    _publish(request, "orders.created", view)
    return view


@router.get("/orders")
def list_orders(
    request: Request,
    principal: Annotated[Principal, allow("orders.read")],
    state: str | None = None,
    escalated: bool | None = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Orders, newest first; ``mine``: addressed to you or your unit (all a patrol sees)."""
    own = [f"user:{principal.username}"] + ([f"unit:{principal.unit_id}"] if principal.unit_id else [])
    with get_db(request).sessionmaker() as s:
        rows = svc.list_orders(
            s,
            state=state,
            escalated=escalated,
            limit=limit,
            recipient=own if (mine or principal.role is Role.patrol) else None,
        )
        return {"orders": [svc.order_view(s, o) for o in rows]}


@router.get("/orders/{order_id}")
def get_order(request: Request, order_id: str, principal: Annotated[Principal, allow("orders.read")]) -> dict[str, Any]:
    """One order with recipients, acknowledgements and history."""
    with get_db(request).sessionmaker() as s:
        return svc.order_view(s, svc.get_order_for(s, order_id, principal), with_history=True)


@router.post("/orders/{order_id}/ack")
def acknowledge(
    request: Request,
    order_id: str,
    body: OrderAck,
    principal: Annotated[Principal, allow("orders.acknowledge")],
    idempotency_key: IdemKey = None,
) -> JSONResponse:
    """Acknowledge (签收) for yourself / your unit (dispatchers and supervisors may for others).
    With an Idempotency-Key a retry replays the first answer (the patrol terminal's offline queue)."""
    view: dict[str, Any] = {}

    def action(s: Any) -> dict[str, Any]:
        svc.acknowledge_order(s, order_id=order_id, principal=principal, recipient=body.recipient, note=body.note)
        s.flush()
        view.update(svc.order_view(s, svc.get_order(s, order_id), with_history=True))
        return view

    return idempotent_reply(
        get_db(request),
        scope=f"{principal.username}:POST /orders/{order_id}/ack",
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        action=action,
        on_commit=lambda: _publish(request, "orders.acknowledged", view),
        status_code=200,
    )


@router.post("/orders/{order_id}/advance")
def advance(
    request: Request,
    order_id: str,
    body: OrderAdvance,
    principal: Annotated[Principal, allow("orders.advance")],
) -> dict[str, Any]:
    """Move the order along 研→交→办→督→结 (a supervisor closes, or sends 督 back to 办)."""
    with get_db(request).session() as s:
        order = svc.advance_order(
            s,
            order_id=order_id,
            to=body.to,
            actor=principal.username,
            role=principal.role,
            note=body.note,
        )
        view = svc.order_view(s, order, with_history=True)
    _publish(request, "orders.updated", view)
    return view


def setup(app: FastAPI) -> None:
    """Run the deadline escalation check in the background while the app runs."""

    async def _start(app: FastAPI) -> None:
        every = float(getattr(app.state, "order_check_s", CHECK_EVERY_S))
        app.state.order_escalation = asyncio.create_task(
            escalation_loop(app.state.db, app.state.bus, every), name="orders-escalation"
        )

    async def _stop(app: FastAPI) -> None:
        task = getattr(app.state, "order_escalation", None)
        if task is not None:
            task.cancel()

    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(_stop)
