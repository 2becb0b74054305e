"""Bulletins (警情通报): drafted by a supervisor, stripped of personal data, approved by a second
person, published; corrected (a new version that replaces the last) or withdrawn, the history kept.

States: ``draft`` → ``published`` → ``corrected`` (a later version replaced it) or ``withdrawn``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core.db import utcnow
from precinct.errors import BadInput, Conflict, Forbidden, NotFound
from precinct.public import redact
from precinct.public.history import record
from precinct.public.models import PublicBulletin

FIELDS = {"title_zh": 200, "title_en": 200, "body_zh": 8000, "body_en": 8000}
SOURCES = ("incident", "case", "fraud_wave")  # fraud_wave: proposed by the system (public.waves)


def preview(texts: dict[str, str]) -> dict[str, Any]:
    """Each text with its personal data replaced by a marker, and what was removed (kinds, places).

    The removed values themselves are not returned: the author sees where they were.
    """
    out: dict[str, Any] = {"texts": {}, "removed": []}
    for name, text in texts.items():
        clean, findings = redact.strip(text or "")
        out["texts"][name] = clean
        out["removed"] += [{"field": name, "kind": f.kind, "start": f.start, "end": f.end} for f in findings]
    return out


def check_texts(texts: dict[str, str]) -> dict[str, str]:
    """Both languages present, lengths within limits, and no personal-data pattern left.

    Raises
    ------
    BadInput
        Naming the field and the kind of personal data still in it (phone number, plate, ...).
    """
    out = {}
    for name, limit in FIELDS.items():
        text = (texts.get(name) or "").strip()
        if not text:
            raise BadInput(f"{name}: a bulletin is published in Chinese and English; this text is missing",
                           detail={"field": name})
        if len(text) > limit:
            raise BadInput(f"{name}: longer than {limit} characters", detail={"field": name})
        found = redact.find(text)
        if found:
            kinds = sorted({redact.LABELS[f.kind][1] for f in found})
            raise BadInput(f"{name}: still contains personal data ({', '.join(kinds)}); strip it first "
                           "(the preview shows where)", detail={"field": name, "kinds": kinds,
                                                               "at": [[f.start, f.end] for f in found]})
        out[name] = text
    return out


def _new_id(now: dt.datetime) -> str:
    return f"PB-{now:%Y%m%d}-{uuid.uuid4().hex[:10]}"


def get_bulletin(session: Session, bulletin_id: str) -> PublicBulletin:
    row = session.get(PublicBulletin, bulletin_id)
    if row is None:
        raise NotFound(f"no bulletin {bulletin_id!r}", detail={"bulletin_id": bulletin_id})
    return row


def draft_bulletin(session: Session, *, author: str, source_kind: str, source_id: str, texts: dict[str, str],
                   corrects: str | None = None, strip: bool = False,
                   now: dt.datetime | None = None) -> PublicBulletin:
    """Draft a bulletin about an incident or a case.

    With ``strip`` the personal data found is replaced by markers (what kind was removed, and where,
    is kept with the draft for the approver; the values are not); without it a text that still
    contains any is refused.
    """
    removed: list[dict[str, Any]] = []
    if strip:
        stripped = preview(texts)
        texts, removed = stripped["texts"], stripped["removed"]
    if source_kind not in SOURCES:
        raise BadInput(f"source: {source_kind!r} is not one of {', '.join(SOURCES)}", detail={"field": "source"})
    if not source_id.strip() or len(source_id) > 64:
        raise BadInput("source id: 1-64 characters", detail={"field": "source_id"})
    clean = check_texts(texts)
    now = now or utcnow()
    row = PublicBulletin(id=_new_id(now), state="draft", source_kind=source_kind, source_id=source_id.strip(),
                         corrects=corrects, removed=json.dumps(removed), created_by=author, created_at=now, **clean)
    session.add(row)
    session.flush()
    record(session, kind="bulletin", object_id=row.id, action="drafted", actor=author,
           detail={"corrects": corrects} if corrects else None)
    return row


def correct_bulletin(session: Session, *, bulletin_id: str, author: str, texts: dict[str, str],
                     now: dt.datetime | None = None) -> PublicBulletin:
    """Draft a corrected version of a published bulletin (it replaces it once approved)."""
    earlier = get_bulletin(session, bulletin_id)
    if earlier.state != "published":
        raise Conflict(f"bulletin {bulletin_id} is {earlier.state}; only the published version can be corrected",
                       detail={"state": earlier.state})
    merged = {name: texts.get(name) or getattr(earlier, name) for name in FIELDS}
    return draft_bulletin(session, author=author, source_kind=earlier.source_kind, source_id=earlier.source_id,
                          texts=merged, corrects=earlier.id, now=now)


def approve_bulletin(session: Session, *, bulletin_id: str, approver: str,
                     now: dt.datetime | None = None) -> PublicBulletin:
    """Publish a draft — approved by someone other than its author (four-eyes)."""
    row = get_bulletin(session, bulletin_id)
    if row.state != "draft":
        raise Conflict(f"bulletin {bulletin_id} is {row.state}, not a draft", detail={"state": row.state})
    if approver == row.created_by:
        raise Forbidden(f"four-eyes rule: {approver} wrote bulletin {bulletin_id} and may not also approve it",
                        detail={"bulletin_id": bulletin_id})
    check_texts({name: getattr(row, name) for name in FIELDS})
    now = now or utcnow()
    if row.corrects:
        earlier = get_bulletin(session, row.corrects)
        if earlier.state != "published":
            raise Conflict(f"bulletin {earlier.id} is {earlier.state}; this correction can no longer be published",
                           detail={"corrects": earlier.id})
        earlier.state = "corrected"
        record(session, kind="bulletin", object_id=earlier.id, action="corrected", actor=approver,
               detail={"by": row.id})
    row.state, row.approved_by, row.published_at = "published", approver, now
    record(session, kind="bulletin", object_id=row.id, action="published", actor=approver)
    session.flush()
    return row


def withdraw_bulletin(session: Session, *, bulletin_id: str, actor: str, reason: str,
                      now: dt.datetime | None = None) -> PublicBulletin:
    """Withdraw a published bulletin; its title and the reason stay public, its text does not."""
    if not reason.strip():
        raise BadInput("a withdrawal needs a reason (it is published)", detail={"field": "reason"})
    redacted = check_reason(reason)
    row = get_bulletin(session, bulletin_id)
    if row.state != "published":
        raise Conflict(f"bulletin {bulletin_id} is {row.state}; only a published bulletin can be withdrawn",
                       detail={"state": row.state})
    row.state, row.withdrawn_at, row.withdrawn_reason = "withdrawn", now or utcnow(), redacted
    record(session, kind="bulletin", object_id=row.id, action="withdrawn", actor=actor, detail={"reason": redacted})
    session.flush()
    return row


def check_reason(reason: str) -> str:
    """A public reason without personal data (refused otherwise)."""
    text = reason.strip()[:1000]
    if redact.find(text):
        raise BadInput("reason: contains personal data (phone number, plate, ...)", detail={"field": "reason"})
    return text


def versions(session: Session, bulletin: PublicBulletin) -> list[PublicBulletin]:
    """Every published version of a bulletin's line, oldest first (following ``corrects`` both ways)."""
    first = bulletin
    while first.corrects:
        first = get_bulletin(session, first.corrects)
    chain = [first]
    while True:
        nxt = session.scalar(select(PublicBulletin).where(PublicBulletin.corrects == chain[-1].id,
                                                          PublicBulletin.state != "draft"))
        if nxt is None:
            return chain
        chain.append(nxt)


def public_bulletins(session: Session, *, limit: int = 100) -> list[PublicBulletin]:
    """The current version of every public bulletin line (published or withdrawn), newest first."""
    q = (select(PublicBulletin).where(PublicBulletin.state.in_(("published", "withdrawn")))
         .order_by(PublicBulletin.published_at.desc()).limit(limit))
    return list(session.scalars(q))


def list_bulletins(session: Session, *, state: str | None = None, limit: int = 200) -> list[PublicBulletin]:
    """All bulletins for staff (drafts included), newest first."""
    q = select(PublicBulletin).order_by(PublicBulletin.created_at.desc()).limit(limit)
    if state:
        q = q.where(PublicBulletin.state == state)
    return list(session.scalars(q))


def bulletin_view(session: Session, row: PublicBulletin, *, public: bool = False) -> dict[str, Any]:
    """A bulletin as JSON; ``public``: no staff names, no source reference, no text once withdrawn."""
    view: dict[str, Any] = {"id": row.id, "state": row.state, "title_zh": row.title_zh, "title_en": row.title_en,
                            "body_zh": row.body_zh, "body_en": row.body_en,
                            "published_at": row.published_at.isoformat() if row.published_at else None,
                            "corrects": row.corrects}
    if row.state == "withdrawn":
        view.update(withdrawn_at=row.withdrawn_at.isoformat() if row.withdrawn_at else None,
                    withdrawn_reason=row.withdrawn_reason)
    if public:
        if row.state == "withdrawn":
            view.update(body_zh="（本通报已撤回）", body_en="(This bulletin has been withdrawn.)")
        view["versions"] = [{"id": v.id, "state": v.state,
                             "published_at": v.published_at.isoformat() if v.published_at else None}
                            for v in versions(session, row)]
        return view
    from precinct.public.history import history

    view.update(source_kind=row.source_kind, source_id=row.source_id, created_by=row.created_by,
                created_at=row.created_at.isoformat(), approved_by=row.approved_by,
                removed=json.loads(row.removed), history=history(session, kind="bulletin", object_id=row.id))
    return view
