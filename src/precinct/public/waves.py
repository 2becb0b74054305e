"""Fraud waves become proposed public warnings (诈骗高发预警).

The anti-fraud centre publishes each wave it sees on the event bus (subject ``fraud.wave``: the
fraud type, channels, modus operandi, advice and the number of reports; never personal data). Here
each wave becomes a **draft** — a CAP alert over the jurisdiction (the hull of the station areas)
when station areas are defined, otherwise a bulletin — written by the system account
``precinct:fraud-wave``. Nothing is published until a supervisor approves it through the usual
four-eyes flow (the approver is never the author; the system never approves). The same wave is
proposed at most once per window (its key is kept in the history).

The bus joins the two domains: ``fraud`` and ``public`` are independent layers and import neither
the other. Only the leader worker proposes (``core.jobs.leadership``), so several workers on one
JetStream bus propose once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from typing import Any, Final

import shapely
from shapely.geometry import Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core.db import utcnow
from precinct.errors import BadInput
from precinct.public import redact
from precinct.public.alerts import create_alert
from precinct.public.areas import check_polygon
from precinct.public.bulletins import draft_bulletin
from precinct.public.history import record
from precinct.public.models import PublicHistory
from precinct.public.stations import station_areas

log = logging.getLogger("precinct.public.waves")
SUBJECT: Final = "fraud.wave"
AUTHOR: Final = "precinct:fraud-wave"
ACTION: Final = "proposed_wave"


def _check_wave(wave: dict[str, Any]) -> dict[str, Any]:
    for name in ("key", "type_zh", "type_en", "advice_zh", "advice_en"):
        if not isinstance(wave.get(name), str) or not wave[name].strip():
            raise BadInput(f"fraud wave: {name} is missing", detail={"field": name})
    if not isinstance(wave.get("reports"), int) or wave["reports"] < 1:
        raise BadInput("fraud wave: reports must be a positive count", detail={"field": "reports"})
    for name in ("days",):
        if not isinstance(wave.get(name), int | float) or wave[name] <= 0:
            raise BadInput(f"fraud wave: {name} must be positive", detail={"field": name})
    return wave


def texts(wave: dict[str, Any], *, k: int) -> dict[str, dict[str, str]]:
    """The alert's texts (zh-CN, en-US) from a wave; a count under ``k`` is said as "several"."""
    n, days = int(wave["reports"]), float(wave["days"])
    many_zh = f"{n}起" if n >= k else "多起"
    many_en = str(n) if n >= k else "several"
    ch = wave.get("channels") or []
    by_zh = f"，主要通过{'、'.join(c['zh'] for c in ch[:3])}实施" if ch else ""
    by_en = f", mostly by {', '.join(c['en'] for c in ch[:3])}" if ch else ""
    return {
        "zh-CN": {"event": "电信网络诈骗预警", "headline": f"{wave['type_zh']}类诈骗高发，请提高警惕",
                  "description": f"近{days:g}天内本地接报{many_zh}{wave['type_zh']}类诈骗{by_zh}。"
                                 + (wave.get("modus_zh") or ""),
                  "instruction": wave["advice_zh"]},
        "en-US": {"event": "Fraud warning", "headline": f"Rise in fraud: {wave['type_en']}",
                  "description": f"{many_en[:1].upper() + many_en[1:]} reports of {wave['type_en']} fraud in the "
                                 f"last {days:g} days{by_en}. {wave.get('modus_en') or ''}".strip(),
                  "instruction": wave["advice_en"]},
    }


def _clean(t: dict[str, dict[str, str]]) -> None:
    """Refuse any text with a personal-data pattern (the wave should never carry one)."""
    for lang, fields in t.items():
        for name, value in fields.items():
            if redact.strip(value)[1]:
                raise BadInput(f"fraud wave: {lang} {name} contains personal data; not proposed",
                               detail={"field": name, "language": lang})


def jurisdiction(session: Session) -> dict[str, Any] | None:
    """The convex hull of every station area as an alert area (None when no area is defined)."""
    areas = station_areas(session)
    if not areas:
        return None
    hull = shapely.union_all([Polygon([(lon, lat) for lat, lon in a["points"]]) for a in areas]).convex_hull
    if hull.geom_type != "Polygon":
        return None
    points = check_polygon([[round(lat, 6), round(lon, 6)] for lon, lat in hull.exterior.coords])
    return {"kind": "polygon", "points": points, "desc": {"zh-CN": "全辖区", "en-US": "The whole jurisdiction"}}


def already_proposed(session: Session, *, key: str, since: dt.datetime) -> bool:
    rows = session.scalars(select(PublicHistory.detail).where(PublicHistory.action == ACTION,
                                                              PublicHistory.ts >= since))
    return any(json.loads(d or "{}").get("wave") == key for d in rows)


def propose(session: Session, *, wave: dict[str, Any], k: int, now: dt.datetime | None = None) -> dict[str, str] | None:
    """Draft an alert (or, without station areas, a bulletin) from a fraud wave; None if this wave
    was already proposed within its window.

    Returns
    -------
    dict or None
        ``{"kind": "alert" | "bulletin", "id": ...}`` of the draft.

    Raises
    ------
    BadInput
        A wave missing its type, advice or count, or a text with a personal-data pattern.
    """
    wave = _check_wave(wave)
    now = now or utcnow()
    if already_proposed(session, key=wave["key"], since=now - dt.timedelta(days=float(wave["days"]))):
        return None
    t = texts(wave, k=k)
    _clean(t)
    detail = {"wave": wave["key"], "kind": wave.get("kind"), "fraud_type": wave.get("fraud_type"),
              "reports": wave["reports"], "days": wave["days"]}
    area = jurisdiction(session)
    if area is not None:
        alert = create_alert(session, author=AUTHOR, texts=t, area=area, urgency="Expected", severity="Moderate",
                             certainty="Likely", category="Security", now=now,
                             expires=now + dt.timedelta(days=float(wave["days"])))
        record(session, kind="alert", object_id=alert.id, action=ACTION, actor=AUTHOR, detail=detail, at=now)
        return {"kind": "alert", "id": alert.id}
    zh, en = t["zh-CN"], t["en-US"]
    bulletin = draft_bulletin(session, author=AUTHOR, source_kind="fraud_wave", source_id=wave["key"][:64], now=now,
                              texts={"title_zh": zh["headline"], "title_en": en["headline"],
                                     "body_zh": f"{zh['description']}\n{zh['instruction']}",
                                     "body_en": f"{en['description']}\n{en['instruction']}"})
    record(session, kind="bulletin", object_id=bulletin.id, action=ACTION, actor=AUTHOR, detail=detail, at=now)
    return {"kind": "bulletin", "id": bulletin.id}


async def consume(app: Any) -> None:
    """Propose a draft for each ``fraud.wave`` event while the app runs (leader worker only)."""
    from precinct.core.jobs import db_url, leadership

    db, settings, bus = app.state.db, app.state.settings, app.state.bus

    def handle(wave: dict[str, Any]) -> None:
        if not leadership(db_url(db)).holds():
            return
        try:
            with db.session() as s:
                made = propose(s, wave=wave, k=settings.public_k)
            if made:
                log.info("fraud wave %s: proposed %s %s", wave.get("key"), made["kind"], made["id"])
        except BadInput as exc:
            log.warning("fraud wave %s not proposed: %s", wave.get("key"), exc)
        except Exception:  # the loop must outlive one bad event or a database hiccup
            log.exception("fraud wave %s: proposing failed", wave.get("key"))

    async for subject, event in bus.subscribe(SUBJECT):
        if subject == SUBJECT:
            await asyncio.to_thread(handle, event)


def setup(app: Any) -> None:
    """Start :func:`consume` with the app and stop it with it."""

    async def _start(app: Any) -> None:
        app.state.public_waves = asyncio.create_task(consume(app), name="public-fraud-waves")

    async def _stop(app: Any) -> None:
        task = getattr(app.state, "public_waves", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(_stop)
