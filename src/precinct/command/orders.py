"""One-click orders (一键下达、全局响应) and their closed loop 研、交、办、督、结.

States, in order: ``analyse`` (研, drafted and being studied), ``assign`` (交, issued to the
recipients), ``handle`` (办, every recipient has acknowledged and is acting), ``supervise`` (督,
reported done, under the supervisor's review) and ``close`` (结). A supervisor may send a
``supervise`` order back to ``handle``. Each change is kept in the order's history.

Recipients are ``unit:<id>``, ``user:<name>``, ``station:<name>`` (every unit of a station),
``group:<name>`` (every unit of a group) or ``all`` (every active unit); a bare id names a unit.
Groups are expanded to units when the order is issued, and every unit must acknowledge. When the
deadline passes with recipients still silent (or the order not yet handled), the order is
escalated to the supervisor once.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.command.common import dumps, new_id
from precinct.command.models import Order, OrderEvent, OrderRecipient, Unit
from precinct.command.types import Priority
from precinct.core.db import utcnow
from precinct.core.identity import Principal
from precinct.core.models import User
from precinct.core.roles import Role
from precinct.core.timeutil import to_iso
from precinct.errors import BadInput, Conflict, Forbidden, NotFound

STATES = ("analyse", "assign", "handle", "supervise", "close")
STATE_ZH = {"analyse": "研", "assign": "交", "handle": "办", "supervise": "督", "close": "结"}
TRANSITIONS = {
    "analyse": ("assign", "close"),
    "assign": ("handle",),
    "handle": ("supervise",),
    "supervise": ("close", "handle"),
    "close": (),
}
MAX_RECIPIENTS = 5_000


def _event(
    session: Session,
    order: Order,
    *,
    kind: str,
    actor: str,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> None:
    now = now or utcnow()
    session.add(
        OrderEvent(
            order_id=order.id,
            ts=now,
            kind=kind,
            from_state=order.state,
            to_state=to_state,
            actor=actor,
            detail=dumps(detail or {}),
        )
    )
    if to_state is not None:
        order.state = to_state
        if to_state == "close":
            order.closed_at = now
    order.updated_at = now


def expand_recipients(session: Session, recipients: list[str]) -> list[tuple[str, str]]:
    """``[(recipient, via)]``: each spec resolved to ``unit:<id>`` / ``user:<name>`` entries.

    Raises
    ------
    BadInput
        An unknown unit, user, station or group (names ``recipients[i]``), or no recipients.
    """
    if not recipients:
        raise BadInput(
            "recipients: at least one recipient is needed",
            detail={"field": "recipients", "reason": "empty"},
        )
    out: dict[str, str] = {}
    for i, spec in enumerate(recipients):
        field = f"recipients[{i}]"
        raw = spec.strip()
        kind, _, name = raw.partition(":") if ":" in raw else ("unit", "", raw)
        if raw == "all":
            kind, name = "all", ""
        if kind not in ("unit", "user", "station", "group", "all") or (kind != "all" and not name):
            raise BadInput(
                f"{field}: {spec!r} is not unit:<id>, user:<name>, station:<name>, group:<name> or all",
                detail={"field": field, "reason": "bad recipient"},
            )
        if kind == "unit":
            unit = session.get(Unit, name)
            if unit is None or not unit.active:
                raise BadInput(
                    f"{field}: unknown unit {name!r}",
                    detail={"field": field, "reason": "unknown unit"},
                )
            out.setdefault(f"unit:{name}", raw)
        elif kind == "user":
            user = session.scalar(select(User).where(User.username == name))
            if user is None or not user.active:
                raise BadInput(
                    f"{field}: unknown user {name!r}",
                    detail={"field": field, "reason": "unknown user"},
                )
            out.setdefault(f"user:{name}", raw)
        else:
            q = select(Unit.id).where(Unit.active.is_(True))
            if kind == "station":
                q = q.where(Unit.station == name)
            elif kind == "group":
                q = q.where(Unit.group_name == name)
            ids = session.scalars(q.order_by(Unit.id)).all()
            if not ids:
                raise BadInput(f"{field}: no units in {raw!r}", detail={"field": field, "reason": "no units"})
            for uid in ids:
                out.setdefault(f"unit:{uid}", raw)
    if len(out) > MAX_RECIPIENTS:
        raise BadInput(
            f"recipients: at most {MAX_RECIPIENTS} after expansion",
            detail={"field": "recipients", "reason": "too many"},
        )
    return list(out.items())


def create_order(
    session: Session,
    *,
    title: str,
    body: str,
    recipients: list[str],
    deadline: dt.datetime,
    issued_by: str,
    priority: Priority | str = Priority.orange,
    incident_id: str | None = None,
    draft: bool = False,
    now: dt.datetime | None = None,
) -> Order:
    """Issue one order to many recipients (一键下达); each must acknowledge before ``deadline``.

    Parameters
    ----------
    session
        Open transaction; the caller commits (and publishes ``orders.created``).
    title, body
        What to do.
    recipients
        ``unit:<id>``, ``user:<name>``, ``station:<name>``, ``group:<name>``, ``all`` or a unit
        id.
    deadline
        Timezone-aware; when it passes with acknowledgements missing the order is escalated.
    issued_by
        Username of the issuer.
    priority
        Five-colour urgency of the order.
    incident_id
        The incident it serves, if any.
    draft
        Start in ``analyse`` (研) instead of issuing at once (``assign``, 交).

    Returns
    -------
    Order
    """
    now = now or utcnow()
    if not title or not title.strip() or len(title) > 200:
        raise BadInput("title: 1-200 characters", detail={"field": "title", "reason": "length"})
    if deadline.tzinfo is None:
        raise BadInput("deadline: needs a timezone offset", detail={"field": "deadline", "reason": "naive"})
    if deadline <= now and not draft:
        raise BadInput("deadline: must be in the future", detail={"field": "deadline", "reason": "past"})
    try:
        prio = Priority(priority)
    except ValueError:
        raise BadInput(
            f"priority: unknown colour {priority!r}",
            detail={"field": "priority", "reason": "value"},
        ) from None
    expanded = expand_recipients(session, recipients)
    order = Order(
        id=new_id("ORD", now),
        title=title.strip(),
        body=body,
        state="analyse",
        priority=prio.value,
        incident_id=incident_id,
        recipients_spec=dumps(recipients),
        deadline=deadline.astimezone(dt.UTC),
        issued_by=issued_by,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    for rcpt, via in expanded:
        session.add(OrderRecipient(order_id=order.id, recipient=rcpt, via=via))
    session.flush()
    _event(
        session,
        order,
        kind="created",
        actor=issued_by,
        to_state="analyse",
        now=now,
        detail={"recipients": recipients, "expanded": len(expanded)},
    )
    if not draft:
        _event(session, order, kind="issued", actor=issued_by, to_state="assign", now=now)
    return order


def get_order(session: Session, order_id: str) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"no order {order_id!r}", detail={"field": "order_id"})
    return order


def get_order_for(session: Session, order_id: str, principal: Principal) -> Order:
    """The order, if ``principal`` may see it: a patrol user only its own unit's or its own orders
    (another unit's order is answered as not found, so ids cannot be probed)."""
    order = get_order(session, order_id)
    if principal.role is Role.patrol:
        own = [f"user:{principal.username}"] + ([f"unit:{principal.unit_id}"] if principal.unit_id else [])
        if not any(r.recipient in own for r in recipients_of(session, order_id)):
            raise NotFound(f"no order {order_id!r}", detail={"field": "order_id"})
    return order


def recipients_of(session: Session, order_id: str) -> list[OrderRecipient]:
    return list(
        session.scalars(
            select(OrderRecipient).where(OrderRecipient.order_id == order_id).order_by(OrderRecipient.id)
        ).all()
    )


def acknowledge_order(
    session: Session,
    *,
    order_id: str,
    principal: Principal,
    recipient: str | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> OrderRecipient:
    """A recipient acknowledges (签收). When all have, an ``assign`` order moves to ``handle``.

    A patrol user acknowledges for its own unit (or itself); dispatchers and supervisors may
    acknowledge on a recipient's behalf (recorded as such).
    """
    now = now or utcnow()
    order = get_order(session, order_id)
    if order.state not in ("assign", "handle"):
        raise Conflict(
            f"order {order_id} is in {order.state} ({STATE_ZH[order.state]}); nothing to acknowledge",
            detail={"field": "state", "reason": f"order {order.state}"},
        )
    own = [f"user:{principal.username}"] + ([f"unit:{principal.unit_id}"] if principal.unit_id else [])
    if recipient is None:
        rows = [r for r in recipients_of(session, order_id) if r.recipient in own]
        if not rows:
            raise Forbidden(
                f"{principal.username} is not a recipient of order {order_id}",
                detail={"field": "recipient", "reason": "not a recipient"},
            )
        row = next((r for r in rows if r.acknowledged_at is None), rows[0])
    else:
        rcpt = recipient if ":" in recipient else f"unit:{recipient}"
        found = session.scalar(
            select(OrderRecipient).where(OrderRecipient.order_id == order_id, OrderRecipient.recipient == rcpt)
        )
        if found is None:
            raise BadInput(
                f"recipient: {rcpt} is not a recipient of order {order_id}",
                detail={"field": "recipient", "reason": "not a recipient"},
            )
        row = found
        if rcpt not in own and principal.role not in (Role.dispatcher, Role.supervisor):
            raise Forbidden(
                f"{principal.username} may not acknowledge for {rcpt}",
                detail={"field": "recipient", "reason": "not yours"},
            )
    if row.acknowledged_at is not None:
        return row
    row.acknowledged_at, row.acknowledged_by, row.note = now, principal.username, note or None
    _event(
        session,
        order,
        kind="acknowledged",
        actor=principal.username,
        now=now,
        detail={"recipient": row.recipient, "note": note},
    )
    session.flush()
    pending = [r for r in recipients_of(session, order_id) if r.acknowledged_at is None]
    if not pending and order.state == "assign":
        _event(session, order, kind="all_acknowledged", actor="system", to_state="handle", now=now)
    return row


def advance_order(
    session: Session,
    *,
    order_id: str,
    to: str,
    actor: str,
    role: Role,
    note: str = "",
    now: dt.datetime | None = None,
) -> Order:
    """Move an order along 研→交→办→督→结 (or 督→办 to send it back); history keeps who and why."""
    order = get_order(session, order_id)
    if to not in STATES:
        raise BadInput(
            f"to: unknown state {to!r}; one of {', '.join(STATES)}",
            detail={"field": "to", "reason": "value"},
        )
    if to not in TRANSITIONS[order.state]:
        raise Conflict(
            f"order {order_id} cannot go from {order.state} ({STATE_ZH[order.state]}) to {to} ({STATE_ZH[to]})",
            detail={"field": "to", "reason": f"{order.state} -> {to} not allowed"},
        )
    if to == "close" and order.state == "supervise" and role not in (Role.supervisor,):
        raise Forbidden(
            "only a supervisor closes a supervised order (结)",
            detail={"field": "to", "reason": "role"},
        )
    _event(session, order, kind="state", actor=actor, to_state=to, now=now, detail={"note": note})
    return order


def escalate_overdue(session: Session, *, now: dt.datetime | None = None) -> list[Order]:
    """Escalate (once) every order past its deadline still in 交 or 办 (not reported done).

    Returns the orders newly escalated; the caller publishes ``orders.escalated``.
    """
    now = now or utcnow()
    rows = session.scalars(
        select(Order).where(
            Order.deadline < now,
            Order.escalated_at.is_(None),
            Order.state.in_(("assign", "handle")),
        )
        # every API worker runs this check: an order another worker is escalating is skipped
        # (PostgreSQL re-checks escalated_at once the row is free; SQLite ignores FOR UPDATE)
        .with_for_update(skip_locked=True)
    ).all()
    out = []
    for order in rows:
        pending = [r.recipient for r in recipients_of(session, order.id) if r.acknowledged_at is None]
        # all acknowledged but not reported done (督) by the deadline escalates too
        order.escalated_at = now
        _event(
            session,
            order,
            kind="escalated",
            actor="system",
            now=now,
            detail={"to": "supervisor", "pending": pending, "state": order.state},
        )
        out.append(order)
    return out


def last_reminder(session: Session, order_id: str) -> dict[str, Any] | None:
    """``{at, by, to}`` of the order's latest reminder (催办, ``command.supervise``), or None."""
    ev = session.scalar(
        select(OrderEvent)
        .where(OrderEvent.order_id == order_id, OrderEvent.kind == "reminded")
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    if ev is None:
        return None
    return {"at": to_iso(ev.ts), "by": ev.actor, "to": json.loads(ev.detail).get("to", [])}


def order_view(session: Session, order: Order, *, with_history: bool = False) -> dict[str, Any]:
    rcpts = recipients_of(session, order.id)
    out: dict[str, Any] = {
        "id": order.id,
        "title": order.title,
        "body": order.body,
        "state": order.state,
        "state_zh": STATE_ZH[order.state],
        "priority": order.priority,
        "incident_id": order.incident_id,
        "recipients_spec": json.loads(order.recipients_spec),
        "deadline": to_iso(order.deadline),
        "issued_by": order.issued_by,
        "created_at": to_iso(order.created_at),
        "updated_at": to_iso(order.updated_at),
        "escalated_at": to_iso(order.escalated_at),
        "closed_at": to_iso(order.closed_at),
        "overdue": order.state not in ("supervise", "close") and order.deadline < utcnow(),
        "acknowledged": sum(1 for r in rcpts if r.acknowledged_at is not None),
        "total": len(rcpts),
        "last_reminder": last_reminder(session, order.id),
        "recipients": [
            {
                "recipient": r.recipient,
                "via": r.via,
                "acknowledged_at": to_iso(r.acknowledged_at),
                "acknowledged_by": r.acknowledged_by,
                "note": r.note,
            }
            for r in rcpts
        ],
    }
    if with_history:
        events = session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()
        out["history"] = [
            {
                "ts": to_iso(e.ts),
                "kind": e.kind,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": e.actor,
                "detail": json.loads(e.detail),
            }
            for e in events
        ]
    return out


def list_orders(
    session: Session,
    *,
    state: str | None = None,
    recipient: list[str] | None = None,
    escalated: bool | None = None,
    limit: int = 200,
) -> list[Order]:
    q = select(Order).order_by(Order.created_at.desc()).limit(limit)
    if state:
        q = q.where(Order.state == state)
    if escalated is not None:
        q = q.where(Order.escalated_at.is_not(None) if escalated else Order.escalated_at.is_(None))
    if recipient:
        q = q.where(Order.id.in_(select(OrderRecipient.order_id).where(OrderRecipient.recipient.in_(recipient))))
    return list(session.scalars(q).all())
