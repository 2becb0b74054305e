"""Public alerts (CAP 1.2): draft, four-eyes approval, signed publication, updates and cancellations.

A draft is never public. Approval by a second user (never the author) builds the CAP document,
checks it against the official schema, signs it with the agency's key and stores the signed bytes:
what was approved is exactly what is served afterwards. An Update or a Cancel is a new message that
``references`` the earlier ones; when it is approved the earlier message is superseded or cancelled.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.config import Settings
from precinct.core.db import utcnow
from precinct.errors import BadInput, Conflict, Forbidden, NotFound
from precinct.public import cap
from precinct.public.history import record
from precinct.public.models import PublicAlert, PublicStationArea

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LIMITS = {"event": 120, "headline": 160, "description": 4000, "instruction": 2000}
REQUIRED = ("event", "headline", "description")
DEFAULT_HOURS = 24.0


def detect_language(text: str) -> str:
    """``zh-CN`` when the text contains Chinese characters, else ``en-US``."""
    return "zh-CN" if _CJK.search(text) else "en-US"


def texts_from(*, event: str | None, headline: str | None, description: str | None,
               instruction: str | None = None, language: str | None = None,
               english: dict[str, str | None] | None = None) -> dict[str, dict[str, str]]:
    """The per-language texts of an alert from the primary texts (their language detected from the
    script unless given) and optional English ones."""
    primary = {k: v for k, v in (("event", event), ("headline", headline), ("description", description),
                                 ("instruction", instruction)) if v}
    lang = language or detect_language(" ".join(primary.values()))
    texts: dict[str, dict[str, str]] = {lang: primary}
    extra = {k: v for k, v in (english or {}).items() if v}
    if extra:
        if lang == "en-US":
            raise BadInput("the English texts were given twice (the primary texts are already English)",
                           detail={"field": "language"})
        texts["en-US"] = extra
    return texts


def _check_choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise BadInput(f"{field}: {value!r} is not one of {', '.join(allowed)}", detail={"field": field})
    return value


def check_texts(texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Every language has event, headline and description, none too long, no unknown field."""
    if not texts:
        raise BadInput("an alert needs its texts in at least one language", detail={"field": "texts"})
    out: dict[str, dict[str, str]] = {}
    for lang, fields in texts.items():
        if lang not in ("zh-CN", "en-US"):
            raise BadInput(f"language {lang!r}: alerts are written in zh-CN and/or en-US", detail={"field": "language"})
        unknown = set(fields) - set(LIMITS)
        if unknown:
            raise BadInput(f"{lang}: unknown text field(s) {', '.join(sorted(unknown))}", detail={"field": lang})
        for name in REQUIRED:
            if not (fields.get(name) or "").strip():
                raise BadInput(f"{lang}: the required element <{name}> is missing",
                               detail={"field": name, "language": lang})
        for name, limit in LIMITS.items():
            if len(fields.get(name) or "") > limit:
                raise BadInput(f"{lang}: <{name}> is longer than {limit} characters",
                               detail={"field": name, "language": lang})
        out[lang] = {k: v.strip() for k, v in fields.items() if v and v.strip()}
    return out


def _new_id(now: dt.datetime) -> str:
    return f"PA-{now:%Y%m%d}-{uuid.uuid4().hex[:10]}"


def create_alert(
    session: Session, *, author: str, texts: dict[str, dict[str, str]], area: dict[str, Any], urgency: str,
    severity: str, certainty: str, category: str = "Safety", cap_status: str = "Actual",
    onset: dt.datetime | None = None, expires: dt.datetime | None = None, msg_type: str = "Alert",
    references_id: str | None = None, now: dt.datetime | None = None,
) -> PublicAlert:
    """Draft an alert (not public until a second user approves it).

    Raises
    ------
    BadInput
        A missing required element, an unknown urgency/severity/certainty/category, an expiry in the past.
    """
    now = now or utcnow()
    _check_choice(urgency, cap.URGENCIES, "urgency")
    _check_choice(severity, cap.SEVERITIES, "severity")
    _check_choice(certainty, cap.CERTAINTIES, "certainty")
    _check_choice(category, cap.CATEGORIES, "category")
    _check_choice(cap_status, ("Actual", "Exercise", "Test"), "status")
    texts = check_texts(texts) if msg_type != "Cancel" else texts
    expires = expires or now + dt.timedelta(hours=DEFAULT_HOURS)
    if expires <= now:
        raise BadInput("expires: the alert would expire before it is published", detail={"field": "expires"})
    if onset is not None and onset >= expires:
        raise BadInput("onset: must be before the expiry", detail={"field": "onset"})
    alert = PublicAlert(id=_new_id(now), msg_type=msg_type, state="draft", cap_status=cap_status,
                        references_id=references_id, category=category, urgency=urgency, severity=severity,
                        certainty=certainty, texts=json.dumps(texts, ensure_ascii=False),
                        area=json.dumps(area, ensure_ascii=False), onset=onset, expires=expires,
                        created_by=author, created_at=now)
    session.add(alert)
    session.flush()
    record(session, kind="alert", object_id=alert.id, action=f"draft_{msg_type.lower()}", actor=author,
           detail={"references": references_id} if references_id else None)
    return alert


def get_alert(session: Session, alert_id: str) -> PublicAlert:
    alert = session.get(PublicAlert, alert_id)
    if alert is None:
        raise NotFound(f"no public alert {alert_id!r}", detail={"alert_id": alert_id})
    return alert


def _published(session: Session, alert_id: str) -> PublicAlert:
    alert = get_alert(session, alert_id)
    if alert.state != "published" or alert.msg_type == "Cancel":
        raise Conflict(f"alert {alert_id} is {alert.state}; only a published alert can be updated or cancelled",
                       detail={"state": alert.state})
    pending = session.scalar(select(PublicAlert.id).where(PublicAlert.references_id == alert_id,
                                                          PublicAlert.state == "draft"))
    if pending:
        raise Conflict(f"alert {alert_id} already has a draft update or cancellation ({pending}) awaiting approval",
                       detail={"pending": pending})
    return alert


def update_alert(session: Session, *, alert_id: str, author: str, changes: dict[str, Any],
                 now: dt.datetime | None = None) -> PublicAlert:
    """Draft an Update of a published alert: its fields with ``changes`` applied (texts merged by language)."""
    earlier = _published(session, alert_id)
    texts = json.loads(earlier.texts)
    for lang, fields in (changes.pop("texts", None) or {}).items():
        texts[lang] = {**texts.get(lang, {}), **fields}
    base = dict(texts=texts, area=json.loads(earlier.area), urgency=earlier.urgency, severity=earlier.severity,
                certainty=earlier.certainty, category=earlier.category, cap_status=earlier.cap_status,
                onset=earlier.onset, expires=earlier.expires)
    base.update({k: v for k, v in changes.items() if v is not None})
    now = now or utcnow()
    if base["expires"] <= now:
        base["expires"] = now + dt.timedelta(hours=DEFAULT_HOURS)
    return create_alert(session, author=author, msg_type="Update", references_id=alert_id, now=now, **base)


def cancel_alert(session: Session, *, alert_id: str, author: str, reason: str,
                 now: dt.datetime | None = None) -> PublicAlert:
    """Draft the Cancel message of a published alert (published on a second user's approval)."""
    if not reason.strip():
        raise BadInput("a cancellation needs a reason (it is published as the CAP <note>)", detail={"field": "reason"})
    earlier = _published(session, alert_id)
    now = now or utcnow()
    alert = create_alert(session, author=author, msg_type="Cancel", references_id=alert_id, now=now,
                         texts={"note": {"reason": reason.strip()[:1000]}}, area=json.loads(earlier.area),
                         urgency=earlier.urgency, severity=earlier.severity, certainty=earlier.certainty,
                         category=earlier.category, cap_status=earlier.cap_status,
                         expires=max(earlier.expires, now + dt.timedelta(hours=1)))
    return alert


def _chain(session: Session, alert: PublicAlert) -> list[PublicAlert]:
    """The earlier messages this one refers to, oldest first."""
    out: list[PublicAlert] = []
    ref = alert.references_id
    while ref is not None and len(out) < 1000:
        earlier = get_alert(session, ref)
        out.append(earlier)
        ref = earlier.references_id
    return out[::-1]


def _reference(alert: PublicAlert) -> str:
    root = etree.fromstring((alert.cap_xml or "").encode("utf-8"))
    sender = root.findtext(f"{{{cap.CAP_NS}}}sender")
    sent = root.findtext(f"{{{cap.CAP_NS}}}sent")
    return f"{sender},{alert.id},{sent}"


def _fields(alert: PublicAlert) -> dict[str, Any]:
    return {"id": alert.id, "msg_type": alert.msg_type, "cap_status": alert.cap_status, "category": alert.category,
            "urgency": alert.urgency, "severity": alert.severity, "certainty": alert.certainty,
            "texts": json.loads(alert.texts), "area": json.loads(alert.area), "onset": alert.onset,
            "expires": alert.expires}


def build_document(session: Session, alert: PublicAlert, *, settings: Settings, sent: dt.datetime,
                   status: str | None = None) -> etree._Element:
    """The unsigned CAP ``<alert>`` of ``alert`` (references to every earlier message of its chain)."""
    note = json.loads(alert.texts).get("note", {}).get("reason") if alert.msg_type == "Cancel" else None
    return cap.build(_fields(alert), sender=settings.public_sender, sender_name=settings.public_sender_name,
                     sent=sent, references=[_reference(a) for a in _chain(session, alert)], status=status, note=note)


def approve_alert(session: Session, *, alert_id: str, approver: str, settings: Settings,
                  now: dt.datetime | None = None) -> PublicAlert:
    """Approve and publish a draft: build, validate against the CAP 1.2 schema, sign, store.

    Raises
    ------
    Forbidden
        The approver wrote the draft (four-eyes: a second person must approve).
    Conflict
        The alert is not a draft, or the message it updates/cancels is no longer published.
    BadInput
        The document does not validate against the schema (nothing is published).
    """
    alert = get_alert(session, alert_id)
    if alert.state != "draft":
        raise Conflict(f"alert {alert_id} is {alert.state}, not a draft awaiting approval",
                       detail={"state": alert.state})
    if approver == alert.created_by:
        raise Forbidden(f"four-eyes rule: {approver} wrote alert {alert_id} and may not also approve it; "
                        "a second person must approve", detail={"alert_id": alert_id})
    now = now or utcnow()
    earlier = get_alert(session, alert.references_id) if alert.references_id else None
    if earlier is not None and earlier.state != "published":
        raise Conflict(f"alert {earlier.id} is {earlier.state}; this {alert.msg_type} can no longer be published",
                       detail={"references": earlier.id})
    root = build_document(session, alert, settings=settings, sent=now)
    cap.validate(root)
    signed = cap.sign(root, cap.signing_material(settings))
    cap.validate(signed)
    alert.cap_xml = signed.decode("utf-8")
    alert.state, alert.approved_by, alert.approved_at = "published", approver, now
    if earlier is not None:
        earlier.state = "cancelled" if alert.msg_type == "Cancel" else "superseded"
        record(session, kind="alert", object_id=earlier.id, action=earlier.state, actor=approver,
               detail={"by": alert.id})
    if alert.msg_type == "Cancel":
        alert.state = "cancelled"
    record(session, kind="alert", object_id=alert.id, action="approved", actor=approver)
    session.flush()
    return alert


def cap_document(session: Session, *, alert_id: str, settings: Settings, preview: bool = False) -> bytes:
    """The signed CAP document of a published alert; ``preview``: an unsigned ``Draft`` of an unapproved one.

    Raises
    ------
    Conflict
        The alert has not been approved (and no preview was asked for).
    """
    alert = get_alert(session, alert_id)
    if alert.cap_xml:
        return alert.cap_xml.encode("utf-8")
    if not preview:
        raise Conflict(f"alert {alert_id} has not been approved; only approved alerts are published "
                       "(ask for a preview to see the draft)", detail={"state": alert.state})
    root = build_document(session, alert, settings=settings, sent=utcnow(), status="Draft")
    cap.validate(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def active_alerts(session: Session, *, now: dt.datetime | None = None) -> list[PublicAlert]:
    """Published, unexpired alerts and updates (newest first)."""
    now = now or utcnow()
    rows = session.scalars(select(PublicAlert).where(PublicAlert.state == "published",
                                                     PublicAlert.msg_type != "Cancel", PublicAlert.expires > now)
                           .order_by(PublicAlert.approved_at.desc()))
    return list(rows)


def list_alerts(session: Session, *, state: str | None = None, limit: int = 200) -> list[PublicAlert]:
    """All alerts for staff (drafts included), newest first."""
    q = select(PublicAlert).order_by(PublicAlert.created_at.desc()).limit(limit)
    if state:
        q = q.where(PublicAlert.state == state)
    return list(session.scalars(q))


def alert_view(alert: PublicAlert, *, public: bool = False) -> dict[str, Any]:
    """An alert as JSON; ``public`` leaves out the staff names and drafts' internals."""
    view: dict[str, Any] = {
        "id": alert.id, "msg_type": alert.msg_type, "state": alert.state, "status": alert.cap_status,
        "references": alert.references_id, "category": alert.category, "urgency": alert.urgency,
        "severity": alert.severity, "certainty": alert.certainty, "texts": json.loads(alert.texts),
        "area": json.loads(alert.area), "onset": alert.onset.isoformat() if alert.onset else None,
        "expires": alert.expires.isoformat(),
        "published_at": alert.approved_at.isoformat() if alert.approved_at else None,
    }
    if not public:
        view.update(created_by=alert.created_by, created_at=alert.created_at.isoformat(),
                    approved_by=alert.approved_by)
    return view


def station_alert_area(session: Session, station_id: str) -> dict[str, Any]:
    """A station's area as an alert area (see :mod:`precinct.public.stations`)."""
    from precinct.public.areas import station_area

    row = session.get(PublicStationArea, station_id)
    if row is None:
        raise BadInput(f"station area {station_id!r} is not defined (precinct public areas add)",
                       detail={"field": "station"})
    return station_area(station_id=row.id, name_zh=row.name_zh, name_en=row.name_en, points=json.loads(row.polygon))


def resolve_area(session: Session, *, circle: str | None = None, polygon: str | None = None,
                 station: str | None = None) -> dict[str, Any]:
    """Exactly one of a circle (``LAT,LON,KM``), a polygon or a station area's id, as an alert area."""
    from precinct.public.areas import parse_circle, parse_polygon

    given = [n for n, v in (("circle", circle), ("polygon", polygon), ("station", station)) if v]
    if len(given) != 1:
        raise BadInput("give the alert's area as exactly one of circle, polygon or station"
                       + (f" (got {', '.join(given)})" if given else ""), detail={"field": "area"})
    if circle:
        return parse_circle(circle)
    if polygon:
        return parse_polygon(polygon)
    return station_alert_area(session, str(station))
