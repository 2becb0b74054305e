"""A supervisor's actions on overdue work (issue 21): remind an order's silent recipients, reassign
an order's recipient, reassign an incident's unit. Included by :mod:`.views_orders`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from precinct.command import orders as orders_svc
from precinct.command import supervise
from precinct.command.common import publish
from precinct.command.views_common import full_incident, publish_incident, publish_units, unit_views
from precinct.core.access import allow, get_db
from precinct.core.db import utcnow
from precinct.core.identity import Principal

router = APIRouter()


class OrderReassign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_recipient: str = Field(min_length=1, max_length=128,
                                description="the silent recipient: unit:<id>, user:<name> or a unit id")
    to_recipient: str = Field(min_length=1, max_length=128,
                              description="unit:<id>, user:<name>, station:<name>, group:<name> or a unit id")
    deadline_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60,
                                         description="a new deadline this many minutes from now (optional)")


class IncidentReassign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_unit_id: str = Field(min_length=1, max_length=64, description="an available unit")
    from_unit_id: str | None = Field(default=None, max_length=64,
                                     description="the unit replaced (default: the one not yet on scene)")
    note: str = Field(default="", max_length=2000)


@router.post("/orders/{order_id}/remind", tags=["orders"],
             responses={404: {"description": "no such order"},
                        409: {"description": "the order is not open (交 / 办) or everyone has acknowledged"}})
def remind(request: Request, order_id: str,
           principal: Annotated[Principal, allow("orders.remind")]) -> dict[str, Any]:
    """Remind the recipients that have not acknowledged (催办): a live event to them, kept in the
    order's history and the audit log; the order's ``last_reminder`` says when and by whom."""
    with get_db(request).session() as s:
        pending = supervise.remind_order(s, order_id=order_id, principal=principal)
        view = orders_svc.order_view(s, orders_svc.get_order(s, order_id), with_history=True)
    publish(request.app.state.bus, "orders.reminded",
            {"order_id": view["id"], "order": view, "remind": pending, "by": principal.username})
    return view


@router.post("/orders/{order_id}/reassign", tags=["orders"],
             responses={404: {"description": "no such order"},
                        409: {"description": "the order is not open, or that recipient already acknowledged"}})
def reassign_order(request: Request, order_id: str, body: OrderReassign,
                   principal: Annotated[Principal, allow("orders.reassign")]) -> dict[str, Any]:
    """Hand a silent recipient's part of the order to another unit or user (改派), optionally
    with a new deadline; the new recipients get the order live."""
    deadline = utcnow() + dt.timedelta(minutes=body.deadline_minutes) if body.deadline_minutes else None
    with get_db(request).session() as s:
        supervise.reassign_order(s, order_id=order_id, from_recipient=body.from_recipient,
                                 to_recipient=body.to_recipient, principal=principal, deadline=deadline)
        view = orders_svc.order_view(s, orders_svc.get_order(s, order_id), with_history=True)
    publish(request.app.state.bus, "orders.updated", {"order_id": view["id"], "order": view})
    return view


@router.post("/incidents/{incident_id}/reassign", tags=["dispatch"],
             responses={404: {"description": "no such incident"},
                        409: {"description": "the incident is not open, the unit is on scene or not available"}})
def reassign_incident(request: Request, incident_id: str, body: IncidentReassign,
                      principal: Annotated[Principal, allow("dispatch.reassign")]) -> dict[str, Any]:
    """Send another available unit in place of one not yet on scene (or to an incident nobody was
    sent to): through dispatch, then the old unit is cleared and available again."""
    with get_db(request).session() as s:
        _inc, touched = supervise.reassign_incident(
            s, incident_id=incident_id, to_unit_id=body.to_unit_id, from_unit_id=body.from_unit_id,
            note=body.note, principal=principal)
        snapshot = full_incident(s, incident_id)
        units = unit_views(s, touched)
    publish_incident(request, "incidents.updated", snapshot)
    publish_units(request, units)
    return snapshot
