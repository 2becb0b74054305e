"""A supervisor's actions on overdue work (issue 21): remind an order's silent recipients, hand an
order's recipient or an incident's unit over to another.

Each action is kept in the object's history (order events, incident events) and written to the
audit log in the same transaction; the views publish the live events once it has committed.
Wrong state is a 409 naming the reason; an unknown order or incident a 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from precinct.command import dispatch as dispatching
from precinct.command.incidents import OPEN_STATUSES, get_incident, record_event
from precinct.command.models import Assignment, Incident, Order, OrderRecipient
from precinct.command.orders import STATE_ZH, _event, expand_recipients, get_order, recipients_of
from precinct.command.units import ACTIVE, get_unit
from precinct.core import audit
from precinct.core.identity import Principal
from precinct.core.roles import AuditAction
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput, Conflict

LIVE_ORDER_STATES = ("assign", "handle")  # issued and not yet reported done: reminders, hand-overs


def _live_order(session: Session, order_id: str, what: str) -> Order:
    order = get_order(session, order_id)
    if order.state not in LIVE_ORDER_STATES:
        raise Conflict(
            f"order {order_id} is in {order.state} ({STATE_ZH[order.state]}); nothing to {what}",
            detail={"field": "state", "reason": f"order {order.state}"},
        )
    return order


def _audit(session: Session, principal: Principal, *, resource: str, params: dict[str, Any]) -> None:
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.alteration,
                 resource=resource, params=params)


def pending_recipients(session: Session, order_id: str) -> list[str]:
    """The recipients of the order that have not acknowledged it, in issue order."""
    return [r.recipient for r in recipients_of(session, order_id) if r.acknowledged_at is None]


def remind_order(session: Session, *, order_id: str, principal: Principal,
                 now: dt.datetime | None = None) -> list[str]:
    """Remind the recipients of an issued order that have not acknowledged it (催办).

    Returns the recipients reminded (the caller publishes ``orders.reminded`` to them).

    Raises
    ------
    NotFound
        No such order.
    Conflict
        The order is not issued and open (交 / 办), or every recipient has acknowledged.
    """
    now = now or utcnow()
    order = _live_order(session, order_id, "remind")
    pending = pending_recipients(session, order_id)
    if not pending:
        raise Conflict(
            f"every recipient of order {order_id} has acknowledged; nobody to remind",
            detail={"field": "recipients", "reason": "all acknowledged"},
        )
    _event(session, order, kind="reminded", actor=principal.username, now=now, detail={"to": pending})
    _audit(session, principal, resource="orders", params={"op": "remind", "order_id": order_id, "to": pending})
    session.flush()
    return pending


def reassign_order(session: Session, *, order_id: str, from_recipient: str, to_recipient: str,
                   principal: Principal, deadline: dt.datetime | None = None,
                   now: dt.datetime | None = None) -> list[str]:
    """Hand a silent recipient's part of an issued order to another unit or user (改派).

    ``from_recipient`` must be a recipient that has not acknowledged; ``to_recipient`` is a unit
    id or ``unit:<id>`` / ``user:<name>`` / ``station:<name>`` / ``group:<name>`` (expanded now).
    A new ``deadline`` (in the future) gives the new recipients time and lets the order be
    escalated again when it passes. Returns the new recipients.

    Raises
    ------
    NotFound
        No such order.
    BadInput
        ``from_recipient`` is not a recipient of the order, ``to_recipient`` is unknown, or the
        deadline is naive or past.
    Conflict
        The order is not in 交 / 办, ``from_recipient`` has acknowledged, or every new recipient
        already is one.
    """
    now = now or utcnow()
    order = _live_order(session, order_id, "reassign")
    src = from_recipient if ":" in from_recipient else f"unit:{from_recipient}"
    rows = {r.recipient: r for r in recipients_of(session, order_id)}
    old = rows.get(src)
    if old is None:
        raise BadInput(f"from_recipient: {src} is not a recipient of order {order_id}",
                       detail={"field": "from_recipient", "reason": "not a recipient"})
    if old.acknowledged_at is not None:
        raise Conflict(f"{src} acknowledged order {order_id} at {to_iso(old.acknowledged_at)}; it stays theirs",
                       detail={"field": "from_recipient", "reason": "already acknowledged"})
    if deadline is not None:
        if deadline.tzinfo is None:
            raise BadInput("deadline: needs a timezone offset", detail={"field": "deadline", "reason": "naive"})
        if deadline <= now:
            raise BadInput("deadline: must be in the future", detail={"field": "deadline", "reason": "past"})
    try:
        expanded = expand_recipients(session, [to_recipient])
    except BadInput as e:
        reason = (e.detail or {}).get("reason", "bad recipient")
        raise BadInput(str(e).replace("recipients[0]", "to_recipient"),
                       detail={"field": "to_recipient", "reason": reason}) from None
    new = [(r, via) for r, via in expanded if r not in rows]
    if not new:
        raise Conflict(f"{to_recipient} is already a recipient of order {order_id}",
                       detail={"field": "to_recipient", "reason": "already a recipient"})
    session.execute(delete(OrderRecipient).where(OrderRecipient.id == old.id))
    for rcpt, _via in new:
        session.add(OrderRecipient(order_id=order_id, recipient=rcpt, via=f"reassigned from {src}"[:128]))
    detail: dict[str, Any] = {"from": src, "to": [r for r, _ in new]}
    if deadline is not None:
        order.deadline = deadline.astimezone(dt.UTC)
        order.escalated_at = None  # a new deadline may be escalated again when it passes
        detail["deadline"] = to_iso(order.deadline)
    _event(session, order, kind="reassigned", actor=principal.username, now=now, detail=detail)
    _audit(session, principal, resource="orders", params={"op": "reassign", "order_id": order_id, **detail})
    session.flush()
    return [r for r, _ in new]


def reassign_incident(session: Session, *, incident_id: str, to_unit_id: str, principal: Principal,
                      from_unit_id: str | None = None, note: str = "") -> tuple[Incident, list[str]]:
    """Send another available unit to an open incident in place of one not yet on scene (改派).

    Without ``from_unit_id`` the incident's one unit not yet on scene is replaced; an incident
    with no unit assigned simply gets ``to_unit_id`` (an overdue dispatch). Through the dispatch
    state machine: the new unit is dispatched first, then the old one cleared, so the incident
    never looks cleared in between. Returns the incident and the unit ids touched.

    Raises
    ------
    NotFound
        No such incident.
    BadInput
        An unknown unit; the same unit on both sides; several units could be replaced and none named.
    Conflict
        The incident is not open; ``from_unit_id`` is not assigned to it or already on scene;
        ``to_unit_id`` is not available.
    """
    incident = get_incident(session, incident_id)
    if incident.status not in OPEN_STATUSES:
        raise Conflict(f"incident {incident_id} is {incident.status}; nothing to reassign",
                       detail={"field": "incident_id", "reason": f"incident {incident.status}"})
    if from_unit_id is not None and from_unit_id == to_unit_id:
        raise BadInput("to_unit_id: the same unit as from_unit_id",
                       detail={"field": "to_unit_id", "reason": "same unit"})
    active = list(session.scalars(select(Assignment).where(
        Assignment.incident_id == incident_id, Assignment.status.in_(ACTIVE))).all())
    if from_unit_id is None:
        movable = [a for a in active if a.status != "on_scene"]
        if len(movable) > 1:
            raise BadInput("from_unit_id: name the unit to replace (several are on their way)",
                           detail={"field": "from_unit_id", "reason": "ambiguous"})
        old = movable[0] if movable else None
        if old is None and active:
            raise Conflict(f"every unit of incident {incident_id} is on scene; nothing to reassign",
                           detail={"field": "from_unit_id", "reason": "on scene"})
    else:
        old = next((a for a in active if a.unit_id == from_unit_id), None)
        if old is None:
            raise Conflict(f"unit {from_unit_id} is not assigned to incident {incident_id}",
                           detail={"field": "from_unit_id", "reason": "unit not assigned"})
        if old.status == "on_scene":
            raise Conflict(f"unit {from_unit_id} is already on scene at incident {incident_id}",
                           detail={"field": "from_unit_id", "reason": "on scene"})
    unit = get_unit(session, to_unit_id, field="to_unit_id")
    if unit.status != "available":
        where = f" on {unit.incident_id}" if unit.incident_id else ""
        raise Conflict(f"to_unit_id: unit {to_unit_id} is {unit.status}{where}",
                       detail={"field": "to_unit_id", "reason": f"unit {unit.status}"})
    dispatching.dispatch_units(session, incident_id=incident_id, unit_ids=[to_unit_id], actor=principal.username)
    touched = [to_unit_id]
    to_status = None
    if old is not None:
        dispatching.clear(session, incident_id=incident_id, unit_id=old.unit_id, actor=principal.username,
                          note=note or f"reassigned to {to_unit_id}")
        touched.append(old.unit_id)
        # the replaced unit may have been the one en route: the incident waits for the new one
        if incident.status == "en_route" and not any(
                a.status in ("en_route", "on_scene") for a in active if a.unit_id != old.unit_id):
            to_status = "dispatched"
    record_event(session, incident, kind="reassigned", actor=principal.username, unit_id=to_unit_id,
                 to_status=to_status, detail={"from": old.unit_id if old else None, "to": to_unit_id, "note": note})
    _audit(session, principal, resource="incidents",
           params={"op": "reassign", "incident_id": incident_id, "from": old.unit_id if old else None,
                   "to": to_unit_id})
    session.flush()
    return incident, touched
