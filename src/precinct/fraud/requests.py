"""Stop-payment and freeze requests (止付冻结) with their legal clock.

A request for one account to its bank moves through the states

========== ==============================================================================
drafted    written, not yet sent; due: sent within ``send_within`` of drafting
sent       sent to the bank; due: the bank confirms within ``confirm_within``
confirmed  the bank stopped or froze the funds (``amount_held``); runs until ``expires_at``
rejected   the bank refused (closed)
renewed    a freeze extended by another term before it ran out
released   the funds released (``amount_returned`` to victims, when any) (closed)
expired    the term ran out, or a sent request was never confirmed (closed)
========== ==============================================================================

The terms are configurable (environment ``PRECINCT_FRAUD_*``): emergency stop-payment holds funds
for 48 hours by default and must be sent within 2 hours of drafting; a freeze runs 6 months and is
renewed by 6 months at a time. :func:`supervision` lists what is overdue or about to expire, for
the supervision screen; :func:`export_requests_csv` writes the list to send.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any, Final

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core import audit
from precinct.core.identity import Principal
from precinct.core.roles import AuditAction
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput, Conflict, NotFound
from precinct.fraud.intake import to_cents
from precinct.fraud.models import FraudIdentifier, FraudRequest, FraudRequestEvent
from precinct.fraud.normalize import InvalidIdentifier, normalize_account
from precinct.fraud.schemas import CURRENCIES, RequestIn, RequestTransition

OPEN_STATES: Final = frozenset({"drafted", "sent", "confirmed", "renewed"})
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "drafted": frozenset({"sent"}),
    "sent": frozenset({"confirmed", "rejected", "expired"}),
    "confirmed": frozenset({"renewed", "released", "expired"}),
    "renewed": frozenset({"renewed", "released", "expired"}),
}
STATE_LABELS: Final[dict[str, tuple[str, str]]] = {
    "drafted": ("草拟", "drafted"), "sent": ("已发送", "sent"), "confirmed": ("已落实", "confirmed"),
    "rejected": ("被拒绝", "rejected"), "renewed": ("已续冻", "renewed"), "released": ("已解除", "released"),
    "expired": ("已到期", "expired"),
}
KIND_LABELS: Final[dict[str, tuple[str, str]]] = {"stop_payment": ("紧急止付", "emergency stop-payment"),
                                                  "freeze": ("冻结", "freeze")}


class Terms(BaseSettings):
    """The legal clock, in hours (environment ``PRECINCT_FRAUD_STOP_TERM_H`` and so on)."""

    model_config = SettingsConfigDict(env_prefix="PRECINCT_FRAUD_", extra="ignore")

    stop_send_within_h: float = 2.0
    stop_confirm_within_h: float = 2.0
    stop_term_h: float = 48.0
    stop_warn_before_h: float = 12.0
    freeze_send_within_h: float = 24.0
    freeze_confirm_within_h: float = 72.0
    freeze_term_h: float = 180 * 24.0
    freeze_renew_term_h: float = 180 * 24.0
    freeze_warn_before_h: float = 15 * 24.0

    def hours(self, kind: str, name: str) -> dt.timedelta:
        return dt.timedelta(hours=float(getattr(self, f"{'stop' if kind == 'stop_payment' else 'freeze'}_{name}")))


def _event(session: Session, req: FraudRequest, state: str, at: dt.datetime, actor: str, note: str | None) -> None:
    session.add(FraudRequestEvent(request_id=req.id, state=state, at=at, actor=actor, note=note))


def create_request(session: Session, *, body: RequestIn, principal: Principal, now: dt.datetime | None = None,
                   terms: Terms | None = None) -> dict[str, Any]:
    """Draft a stop-payment or freeze request; the clock to send it starts now."""
    terms = terms or Terms()
    now = now or utcnow()
    try:
        account = normalize_account(body.account)
    except InvalidIdentifier as exc:
        raise BadInput(f"account: {exc.reason}", detail={"field": "account", "reason": exc.reason}) from None
    currency = body.currency.upper()
    if currency not in CURRENCIES:
        raise BadInput(f"currency is one of {', '.join(sorted(CURRENCIES))}", detail={"field": "currency"})
    cluster_id = session.scalar(select(FraudIdentifier.cluster_id).where(
        FraudIdentifier.kind == "account", FraudIdentifier.value == account))
    req = FraudRequest(id=f"ZF-{uuid.uuid4().hex[:12]}", kind=body.kind, state="drafted", case_id=body.case_id,
                       cluster_id=cluster_id, account=account, bank=body.bank.strip(), currency=currency,
                       amount_requested_cents=to_cents(body.amount, field_name="amount"), reason=body.reason,
                       created_by=principal.username, created_at=now,
                       due_at=now + terms.hours(body.kind, "send_within_h"))
    session.add(req)
    session.flush()
    _event(session, req, "drafted", now, principal.username, body.reason)
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.collection,
                 resource="fraud.requests", params={"request_id": req.id, "kind": req.kind, "account": account},
                 result_count=1, case_id=body.case_id)
    return request_view(req, now=now, terms=terms)


def transition_request(session: Session, *, request_id: str, body: RequestTransition, principal: Principal,
                       now: dt.datetime | None = None, terms: Terms | None = None) -> dict[str, Any]:
    """Move a request to its next state, restarting the clock that applies.

    Raises
    ------
    Conflict
        The move is not allowed from the current state (e.g. renewing a stop-payment).
    """
    terms = terms or Terms()
    now = now or utcnow()
    req = session.get(FraudRequest, request_id, with_for_update=True)
    if req is None:
        raise NotFound(f"no stop-payment or freeze request {request_id!r}", detail={"request_id": request_id})
    allowed = TRANSITIONS.get(req.state, frozenset())
    if body.state not in allowed or (body.state == "renewed" and req.kind != "freeze"):
        why = "only freezes are renewed" if body.state == "renewed" and req.kind != "freeze" else (
            f"from {req.state} a request may become {', '.join(sorted(allowed)) or 'nothing (closed)'}")
        raise Conflict(f"request {request_id}: cannot become {body.state}: {why}",
                       detail={"state": req.state, "wanted": body.state})
    if body.state == "sent":
        req.sent_at, req.due_at = now, now + terms.hours(req.kind, "confirm_within_h")
    elif body.state == "confirmed":
        req.confirmed_at, req.due_at = now, None
        req.expires_at = now + terms.hours(req.kind, "term_h")
        if body.amount_held is not None:
            req.amount_held_cents = to_cents(body.amount_held, field_name="amount_held")
    elif body.state == "renewed":
        base = max(req.expires_at or now, now)
        req.expires_at = base + terms.hours(req.kind, "renew_term_h")
        req.renewals += 1
    else:  # rejected, released, expired: closed
        req.closed_at, req.due_at = now, None
        if body.amount_returned is not None:
            returned = to_cents(body.amount_returned, field_name="amount_returned")
            if returned > max(req.amount_held_cents, req.amount_requested_cents):
                raise BadInput("amount_returned is more than was held", detail={"field": "amount_returned"})
            req.amount_returned_cents = returned
    req.state = body.state
    _event(session, req, body.state, now, principal.username, body.note)
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.alteration,
                 resource="fraud.requests", params={"request_id": req.id, "state": body.state},
                 result_count=1, case_id=req.case_id)
    session.flush()
    return request_view(req, now=now, terms=terms)


def flag(req: FraudRequest, *, now: dt.datetime, terms: Terms) -> str | None:
    """``overdue`` (a deadline passed), ``expired`` (the term ran out, not yet closed),
    ``expiring`` (within the warning window), or None."""
    if req.state not in OPEN_STATES:
        return None
    if req.due_at is not None and req.due_at < now:
        return "overdue"
    if req.expires_at is not None:
        if req.expires_at <= now:
            return "expired"
        if req.expires_at - now <= terms.hours(req.kind, "warn_before_h"):
            return "expiring"
    return None


def request_view(req: FraudRequest, *, now: dt.datetime, terms: Terms) -> dict[str, Any]:
    return {
        "id": req.id, "kind": req.kind, "kind_zh": KIND_LABELS[req.kind][0], "state": req.state,
        "state_zh": STATE_LABELS[req.state][0], "case_id": req.case_id, "cluster_id": req.cluster_id,
        "account": req.account, "bank": req.bank, "currency": req.currency,
        "amount_requested": req.amount_requested_cents / 100, "amount_held": req.amount_held_cents / 100,
        "amount_returned": req.amount_returned_cents / 100, "renewals": req.renewals,
        "created_at": to_iso(req.created_at), "sent_at": to_iso(req.sent_at), "due_at": to_iso(req.due_at),
        "confirmed_at": to_iso(req.confirmed_at), "expires_at": to_iso(req.expires_at),
        "closed_at": to_iso(req.closed_at), "flag": flag(req, now=now, terms=terms),
    }


def list_requests(session: Session, *, state: str | None = None, case_id: str | None = None,
                  now: dt.datetime | None = None, terms: Terms | None = None) -> list[dict[str, Any]]:
    """Requests, newest first, with their flags."""
    q = select(FraudRequest).order_by(FraudRequest.created_at.desc(), FraudRequest.id)
    if state is not None:
        q = q.where(FraudRequest.state == state)
    if case_id is not None:
        q = q.where(FraudRequest.case_id == case_id)
    now, terms = now or utcnow(), terms or Terms()
    return [request_view(r, now=now, terms=terms) for r in session.scalars(q)]


def supervision(session: Session, *, now: dt.datetime | None = None, terms: Terms | None = None) -> dict[str, Any]:
    """Open requests that are overdue, expired or about to expire (for the supervision screen)."""
    now, terms = now or utcnow(), terms or Terms()
    out: dict[str, list[dict[str, Any]]] = {"overdue": [], "expired": [], "expiring": []}
    for req in session.scalars(select(FraudRequest).where(FraudRequest.state.in_(OPEN_STATES))):
        f = flag(req, now=now, terms=terms)
        if f is not None:
            out[f].append(request_view(req, now=now, terms=terms))
    for rows in out.values():
        rows.sort(key=lambda r: (r["due_at"] or r["expires_at"] or "", r["id"]))
    return {"now": to_iso(now), **out, "counts": {k: len(v) for k, v in out.items()}}


EXPORT_COLUMNS: Final = ("id", "kind", "state", "bank", "account", "currency", "amount_requested", "amount_held",
                         "amount_returned", "case_id", "created_at", "sent_at", "due_at", "confirmed_at",
                         "expires_at", "renewals", "flag")


def export_requests_csv(rows: list[dict[str, Any]]) -> str:
    """The requests as CSV text (UTF-8; the header names the columns)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(EXPORT_COLUMNS), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()
