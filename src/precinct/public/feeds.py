"""The public Atom feeds: active alerts (each linking to its signed CAP file) and bulletins."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from precinct.config import Settings
from precinct.core.db import utcnow
from precinct.public.alerts import active_alerts
from precinct.public.atom import Entry, feed


def _pick(texts: dict[str, dict[str, str]], field: str) -> str:
    parts = [t[field] for lang in ("zh-CN", "en-US") if (t := texts.get(lang)) and t.get(field)]
    return " / ".join(parts)


def alerts_feed(session: Session, *, settings: Settings, base_url: str) -> bytes:
    """Atom feed of the active alerts (CAP 1.2 files linked as ``application/cap+xml``)."""
    base = base_url.rstrip("/")
    entries = []
    for a in active_alerts(session):
        texts = json.loads(a.texts)
        entries.append(Entry(id=f"urn:precinct:alert:{a.id}", title=_pick(texts, "headline"),
                             updated=a.approved_at or a.created_at,
                             summary=f"{_pick(texts, 'event')} · {a.urgency}/{a.severity}/{a.certainty}",
                             link=f"{base}/api/v1/public/alerts/{a.id}/cap", link_type="application/cap+xml"))
    return feed(feed_id="urn:precinct:alerts", title="公安预警信息 / Police public alerts",
                self_url=f"{base}/api/v1/public/alerts.atom", author=settings.public_sender_name,
                updated=utcnow() if not entries else entries[0].updated, entries=entries)


def bulletins_feed(session: Session, *, settings: Settings, base_url: str) -> bytes:
    """Atom feed of the published bulletins (and withdrawal notices)."""
    from precinct.public.bulletins import public_bulletins

    base = base_url.rstrip("/")
    entries = []
    for b in public_bulletins(session):
        withdrawn = b.state == "withdrawn"
        entries.append(Entry(
            id=f"urn:precinct:bulletin:{b.id}",
            title=("【已撤回 Withdrawn】" if withdrawn else "") + f"{b.title_zh} / {b.title_en}",
            updated=(b.withdrawn_at if withdrawn else None) or b.published_at or b.created_at,
            summary=(b.withdrawn_reason or "") if withdrawn else f"{b.body_zh[:200]}\n\n{b.body_en[:400]}",
            link=f"{base}/api/v1/public/bulletins/{b.id}", link_type="application/json"))
    return feed(feed_id="urn:precinct:bulletins", title="警情通报 / Police bulletins",
                self_url=f"{base}/api/v1/public/bulletins.atom", author=settings.public_sender_name,
                updated=utcnow() if not entries else max(e.updated for e in entries), entries=entries)
