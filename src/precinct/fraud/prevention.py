"""Warnings (预警劝阻): leads from recorded links to known fraud identifiers, warning tasks, outcomes.

A lead exists only because a link was recorded: a person received a call or a text message from a
number, or paid an account, that is an identifier of an open fraud cluster. Every lead shows that
link. Nothing here rates, ranks or scores a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core import audit
from precinct.core.identity import Principal
from precinct.core.roles import AuditAction
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput, Conflict, NotFound
from precinct.fraud.models import FraudCluster, FraudContact, FraudIdentifier, FraudWarning
from precinct.fraud.normalize import InvalidIdentifier, normalize, normalize_phone
from precinct.fraud.schemas import ContactIn, WarningIn, WarningOutcome

METHODS: Final = {"call": ("电话劝阻", "phone call"), "sms": ("预警短信", "warning text message"),
                  "visit": ("上门劝阻", "visit")}
OUTCOMES: Final = {"reached": ("已接通", "reached"), "not_reached": ("未接通", "not reached"),
                   "confirmed_safe": ("确认未受骗", "confirmed safe"),
                   "transfer_stopped": ("劝阻成功", "transfer stopped")}
LINKS: Final = {"call_from": ("接到涉诈号码来电", "received a call from"),
                "sms_from": ("收到涉诈号码短信", "received a text message from"),
                "paid_to": ("向涉诈账户转账", "paid to"), "visited": ("访问涉诈网址", "visited")}
SMS_TEMPLATES: Final = {
    "generic": ("【反诈中心】您好，您可能接触到诈骗分子，请勿转账汇款，如有疑问请拨打96110。",
                "Anti-fraud centre: you may have been contacted by fraudsters. Do not transfer money; "
                "call 96110 if in doubt."),
    "investment": ("【反诈中心】凡是推荐股票、虚拟货币高回报投资的都是诈骗，请勿转账。",
                   "Anti-fraud centre: offers of high-return stock or crypto investments are fraud; do not pay."),
}


def record_contact(session: Session, *, body: ContactIn, principal: Principal) -> dict[str, Any]:
    """Record that a person was in contact with a known fraud identifier (this makes a lead).

    Raises
    ------
    BadInput
        The person's phone or the identifier is malformed.
    NotFound
        The identifier is not one of a known fraud cluster: no link, so no lead.
    """
    try:
        phone = normalize_phone(body.person_phone)
        value = normalize(body.kind, body.value)
    except InvalidIdentifier as exc:
        raise BadInput(f"{exc.kind}: {exc.reason}", detail={"field": exc.kind, "reason": exc.reason}) from None
    if body.at.tzinfo is None:
        raise BadInput("at needs a timezone offset", detail={"field": "at"})
    ident = session.scalar(select(FraudIdentifier).where(FraudIdentifier.kind == body.kind,
                                                         FraudIdentifier.value == value))
    if ident is None:
        raise NotFound(f"{body.kind} {value} is not an identifier of any fraud report; no lead is made",
                       detail={"kind": body.kind, "value": value})
    contact = FraudContact(person_name=body.person_name, person_phone=phone, link=body.link,
                           identifier_id=ident.id, at=body.at, source=body.source,
                           recorded_by=principal.username, recorded_at=utcnow())
    session.add(contact)
    session.flush()
    cluster = session.get(FraudCluster, ident.cluster_id)
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.collection,
                 resource="fraud.contacts", params={"contact_id": contact.id, "identifier": value},
                 result_count=1, case_id=cluster.case_id if cluster else None)
    return _contact_view(contact, ident, cluster)


def _contact_view(c: FraudContact, ident: FraudIdentifier, cluster: FraudCluster | None) -> dict[str, Any]:
    zh, en = LINKS[c.link]
    return {"contact_id": c.id, "person_name": c.person_name, "person_phone": c.person_phone,
            "link": {"type": c.link, "zh": zh, "en": en, "kind": ident.kind, "value": ident.value,
                     "at": to_iso(c.at), "source": c.source},
            "cluster_id": ident.cluster_id, "case_id": cluster.case_id if cluster else None,
            "cluster_reports": cluster.report_count if cluster else 0}


def list_leads(session: Session, *, include_warned: bool = False) -> list[dict[str, Any]]:
    """Recorded contacts with identifiers of open clusters, each with its link; newest first.

    Contacts that already have a warning task are left out unless ``include_warned``.
    """
    warned = set(session.scalars(select(FraudWarning.contact_id)))
    rows = session.execute(
        select(FraudContact, FraudIdentifier, FraudCluster)
        .join(FraudIdentifier, FraudIdentifier.id == FraudContact.identifier_id)
        .join(FraudCluster, FraudCluster.id == FraudIdentifier.cluster_id)
        .where(FraudCluster.status == "open")
        .order_by(FraudContact.at.desc(), FraudContact.id))
    return [{**_contact_view(c, i, k), "warned": c.id in warned} for c, i, k in rows
            if include_warned or c.id not in warned]


def create_warning(session: Session, *, body: WarningIn, principal: Principal) -> dict[str, Any]:
    """Make a warning task (call, text message or visit) for a recorded contact."""
    contact = session.get(FraudContact, body.contact_id)
    if contact is None:
        raise NotFound(f"no recorded contact {body.contact_id}", detail={"contact_id": body.contact_id})
    if body.method == "sms" and body.template is not None and body.template not in SMS_TEMPLATES:
        raise BadInput(f"template is one of {', '.join(SMS_TEMPLATES)}", detail={"field": "template"})
    ident = session.get(FraudIdentifier, contact.identifier_id)
    assert ident is not None
    cluster = session.get(FraudCluster, ident.cluster_id)
    w = FraudWarning(contact_id=contact.id, cluster_id=ident.cluster_id, case_id=cluster.case_id if cluster else "",
                     method=body.method, template=body.template or ("generic" if body.method == "sms" else None),
                     state="open", created_by=principal.username, created_at=utcnow())
    session.add(w)
    session.flush()
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.collection,
                 resource="fraud.warnings", params={"warning_id": w.id, "contact_id": contact.id},
                 result_count=1, case_id=w.case_id or None)
    return warning_view(w, contact)


def record_outcome(session: Session, *, warning_id: int, body: WarningOutcome, principal: Principal,
                   now: dt.datetime | None = None) -> dict[str, Any]:
    """Record a warning task's outcome (reached, not reached, confirmed safe, transfer stopped)."""
    w = session.get(FraudWarning, warning_id, with_for_update=True)
    if w is None:
        raise NotFound(f"no warning task {warning_id}", detail={"warning_id": warning_id})
    if w.state == "done":
        raise Conflict(f"warning task {warning_id} already has its outcome ({w.outcome})",
                       detail={"outcome": w.outcome})
    w.state, w.outcome, w.note = "done", body.outcome, body.note
    w.done_by, w.done_at = principal.username, now or utcnow()
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.alteration,
                 resource="fraud.warnings", params={"warning_id": w.id, "outcome": body.outcome},
                 result_count=1, case_id=w.case_id or None)
    session.flush()
    contact = session.get(FraudContact, w.contact_id)
    assert contact is not None
    return warning_view(w, contact)


def warning_view(w: FraudWarning, contact: FraudContact) -> dict[str, Any]:
    sms = SMS_TEMPLATES.get(w.template or "") if w.method == "sms" else None
    return {"warning_id": w.id, "contact_id": w.contact_id, "cluster_id": w.cluster_id, "case_id": w.case_id,
            "method": w.method, "method_zh": METHODS[w.method][0], "template": w.template,
            "text_zh": sms[0] if sms else None, "text_en": sms[1] if sms else None,
            "person_phone": contact.person_phone, "link": contact.link, "state": w.state, "outcome": w.outcome,
            "outcome_zh": OUTCOMES[w.outcome][0] if w.outcome else None, "note": w.note,
            "created_at": to_iso(w.created_at), "done_at": to_iso(w.done_at)}


def list_warnings(session: Session, *, state: str | None = None) -> list[dict[str, Any]]:
    """Warning tasks, newest first."""
    q = select(FraudWarning, FraudContact).join(FraudContact, FraudContact.id == FraudWarning.contact_id) \
        .order_by(FraudWarning.created_at.desc(), FraudWarning.id.desc())
    if state is not None:
        q = q.where(FraudWarning.state == state)
    return [warning_view(row[0], row[1]) for row in session.execute(q)]
