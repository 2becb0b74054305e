"""Callbacks (回访): after an incident closes, call the caller back and ask how it went.

Tasks are made from closed incidents (all, or a deterministic sample by type: an incident is taken
when the SHA-256 of its id falls under the type's rate, so re-running never changes the sample).
The call-taker reads a short script in the caller's language, records reached / not reached /
declined, a satisfaction score 1-5 and a comment; a complaint gets a deadline for supervision.
Reading the caller's number is a personal-data read with purpose ``callback`` (audited); the number
itself stays in the command domain. Comments are never published; only counts and scores are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core.db import utcnow
from precinct.errors import BadInput, Conflict, NotFound
from precinct.public.history import record
from precinct.public.models import PublicCallback

OUTCOMES = ("reached", "not_reached", "declined")
COMPLAINT_DAYS = 7.0
SCRIPTS = {
    "zh-CN": ("您好，这里是{agency}。您于{date}拨打110报警，我们想了解民警的处置情况。"
              "请问民警是否及时到场？您对处理结果是否满意？请用1到5分评价（5分为非常满意）。"
              "您还有什么意见或建议吗？感谢您的支持。"),
    "en-US": ("Hello, this is {agency}. You called 110 on {date}; we would like to know how the police "
              "handled it. Did officers arrive in good time? Are you satisfied with the outcome? Please rate "
              "it from 1 to 5 (5 = very satisfied). Is there anything else you would like to tell us? Thank you."),
}


def sampled(incident_id: str, rate: float) -> bool:
    """Deterministic sampling: True for a fraction ``rate`` of ids, the same ids every time."""
    if rate >= 1:
        return True
    digest = hashlib.sha256(incident_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def generate(session: Session, *, records: list[dict[str, Any]], rate: float = 1.0,
             type_rates: dict[str, float] | None = None, station_of: Callable[[float, float], str] | None = None,
             now: dt.datetime | None = None) -> int:
    """Create callback tasks for closed incidents that have none yet; the number created.

    Parameters
    ----------
    records
        Incident dicts (``id``, ``type``, ``priority``, ``status``, ``closed_at``, ``lat``, ``lon``)
        from the command domain's ``incident_records``.
    rate, type_rates
        Fraction of incidents called back, overall and per type code.
    station_of
        Station area of a position (for statistics by station).
    """
    for name, value in (("rate", rate), *((f"rate of {t}", r) for t, r in (type_rates or {}).items())):
        if not 0 <= value <= 1:
            raise BadInput(f"{name}: {value} is not between 0 and 1", detail={"field": "rate"})
    now = now or utcnow()
    have = set(session.scalars(select(PublicCallback.incident_id)
                               .where(PublicCallback.incident_id.in_([r["id"] for r in records]))))
    made = 0
    for r in records:
        if r["id"] in have or r.get("status") != "closed" or r.get("closed_at") is None:
            continue
        if not sampled(r["id"], (type_rates or {}).get(r["type"], rate)):
            continue
        station = station_of(r["lat"], r["lon"]) if station_of and r.get("lat") is not None else None
        session.add(PublicCallback(incident_id=r["id"], incident_type=r["type"], priority=r.get("priority"),
                                   station=station, closed_at=r["closed_at"], state="pending", complaint=False,
                                   created_at=now))
        have.add(r["id"])
        made += 1
    session.flush()
    return made


def get_callback(session: Session, callback_id: int) -> PublicCallback:
    row = session.get(PublicCallback, callback_id)
    if row is None:
        raise NotFound(f"no callback task {callback_id}", detail={"callback_id": callback_id})
    return row


def pending(session: Session, *, limit: int = 100) -> list[PublicCallback]:
    """Open tasks, oldest incident first."""
    return list(session.scalars(select(PublicCallback).where(PublicCallback.state == "pending")
                                .order_by(PublicCallback.closed_at).limit(limit)))


def script(language: str, *, agency: str, closed_at: dt.datetime) -> str:
    """The call script in ``zh-CN`` or ``en-US``."""
    if language not in SCRIPTS:
        raise BadInput(f"language {language!r}: scripts exist in {', '.join(SCRIPTS)}", detail={"field": "language"})
    return SCRIPTS[language].format(agency=agency, date=closed_at.strftime("%Y-%m-%d"))


def caller_contact(session: Session, *, incident_id: str) -> dict[str, Any]:
    """The caller's number and language from the command domain (call after the grant is recorded)."""
    from precinct.command import service as command

    return command.caller_contact(session, incident_id=incident_id)


def record_outcome(session: Session, *, callback_id: int, actor: str, outcome: str, score: int | None = None,
                   comment: str | None = None, complaint: bool = False, complaint_to: list[str] | None = None,
                   default_to: str | list[str] = "", now: dt.datetime | None = None) -> PublicCallback:
    """Record how a callback went; a complaint gets a supervision deadline (7 days).

    With ``complaint_to`` (order recipients such as ``user:NAME`` or ``station:NAME``) the complaint
    also opens a one-click order (督办) with that deadline in the command domain, whose escalation
    then follows it; the order's id is kept in the callback's history. When ``complaint_to`` is
    not given (None), ``default_to`` is used (the setting ``public_complaint_to``: a
    comma-separated list of recipients); an empty list given explicitly opens no order.
    """
    if complaint_to is None:
        complaint_to = default_recipients(default_to)
    if outcome not in OUTCOMES:
        raise BadInput(f"outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}", detail={"field": "outcome"})
    if score is not None and (outcome != "reached" or not 1 <= score <= 5):
        raise BadInput("score: 1-5, and only when the caller was reached", detail={"field": "score"})
    if complaint and outcome != "reached":
        raise BadInput("complaint: only a reached caller can complain", detail={"field": "complaint"})
    row = get_callback(session, callback_id)
    if row.state != "pending":
        raise Conflict(f"callback {callback_id} is already {row.state}", detail={"state": row.state})
    now = now or utcnow()
    row.state, row.score, row.comment, row.complaint = outcome, score, (comment or "")[:2000] or None, complaint
    row.complaint_due = now + dt.timedelta(days=COMPLAINT_DAYS) if complaint else None
    row.done_by, row.done_at = actor, now
    session.flush()
    if complaint and complaint_to:
        from precinct.command.service import create_order

        order = create_order(session, title=f"回访投诉督办 Complaint after callback {row.id}",
                             body=f"警情 Incident {row.incident_id} ({row.incident_type}): 来电人回访中投诉，"
                                  "请在期限内核查并答复。 The caller complained at the callback; review and answer "
                                  "before the deadline.",
                             recipients=complaint_to, deadline=row.complaint_due or now, issued_by=actor,
                             incident_id=row.incident_id, now=now)
        record(session, kind="callback", object_id=str(row.id), action="complaint_order", actor=actor,
               detail={"order": order.id})
    return row


def default_recipients(value: str | list[str]) -> list[str]:
    """The default recipients of complaint orders: ``"user:a, group:督察"`` as a list (blanks dropped)."""
    items = value.split(",") if isinstance(value, str) else value
    return [x.strip() for x in items if x.strip()]


def callback_view(row: PublicCallback) -> dict[str, Any]:
    return {"id": row.id, "incident_id": row.incident_id, "type": row.incident_type, "priority": row.priority,
            "station": row.station, "closed_at": row.closed_at.isoformat(), "state": row.state, "score": row.score,
            "comment": row.comment, "complaint": row.complaint,
            "complaint_due": row.complaint_due.isoformat() if row.complaint_due else None}


def satisfaction(session: Session, *, since: dt.datetime, until: dt.datetime, k: int) -> dict[str, Any]:
    """Callback outcomes and satisfaction of incidents closed in ``[since, until)``, overall and per
    station and type; groups with fewer than ``k`` reached callers give no score (too few to publish)."""
    rows = list(session.scalars(select(PublicCallback).where(PublicCallback.closed_at >= since,
                                                             PublicCallback.closed_at < until)))

    def summary(group: list[PublicCallback]) -> dict[str, Any]:
        scores = [r.score for r in group if r.state == "reached" and r.score is not None]
        out: dict[str, Any] = {"tasks": len(group), **{o: sum(r.state == o for r in group) for o in OUTCOMES},
                               "pending": sum(r.state == "pending" for r in group),
                               "complaints": sum(r.complaint for r in group)}
        if len(scores) >= k:
            out["mean_score"] = round(statistics.fmean(scores), 2)
            out["satisfied_pct"] = round(100 * sum(s >= 4 for s in scores) / len(scores), 2)
        return out

    by: dict[str, dict[str, list[PublicCallback]]] = {"station": defaultdict(list), "type": defaultdict(list)}
    for r in rows:
        by["station"][r.station or "unknown"].append(r)
        by["type"][r.incident_type].append(r)
    return {"overall": summary(rows),
            "by_station": {name: summary(g) for name, g in sorted(by["station"].items()) if len(g) >= k},
            "by_type": {name: summary(g) for name, g in sorted(by["type"].items()) if len(g) >= k}}
