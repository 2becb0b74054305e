"""The public page (公开信息): active alerts, bulletins and the open-data downloads, in Chinese and English."""

from __future__ import annotations

import datetime as dt
import html
import json

from sqlalchemy.orm import Session

from precinct.config import Settings
from precinct.public.alerts import active_alerts
from precinct.public.bulletins import public_bulletins


def _last_month(now: dt.datetime) -> str:
    first = now.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def render(session: Session, *, settings: Settings, now: dt.datetime | None = None) -> str:
    """A self-contained HTML page (no scripts, no outside resources)."""
    now = now or dt.datetime.now(dt.UTC)
    e = html.escape
    month = _last_month(now)
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{e(settings.public_sender_name)} · 公开信息 Public information</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:auto;padding:1rem;line-height:1.5}"
        ".alert{border-left:.4rem solid #c0392b;padding:.2rem .8rem;margin:.8rem 0;background:#fdf2f0}"
        ".bulletin{border-left:.4rem solid #2c3e50;padding:.2rem .8rem;margin:.8rem 0}"
        ".meta{color:#555;font-size:.9em}</style></head><body>",
        f"<h1>{e(settings.public_sender_name)}</h1>",
        "<h2>预警信息 Public alerts</h2>",
        "<p class='meta'><a href='alerts.atom'>Atom</a> · CAP 1.2</p>",
    ]
    alerts = active_alerts(session, now=now)
    if not alerts:
        parts.append("<p>当前没有预警。 There are no active alerts.</p>")
    for a in alerts:
        texts = json.loads(a.texts)
        parts.append("<div class='alert'>")
        for lang in ("zh-CN", "en-US"):
            t = texts.get(lang)
            if t:
                parts.append(f"<h3 lang='{lang}'>{e(t.get('headline', ''))}</h3><p lang='{lang}'>"
                             f"{e(t.get('description', ''))}</p>")
                if t.get("instruction"):
                    parts.append(f"<p lang='{lang}'><strong>{e(t['instruction'])}</strong></p>")
        parts.append(f"<p class='meta'>{e(a.severity)} · {e(a.urgency)} · {e(a.certainty)} · "
                     f"<a href='alerts/{e(a.id)}/cap'>CAP</a></p></div>")
    parts += ["<h2>警情通报 Bulletins</h2>", "<p class='meta'><a href='bulletins.atom'>Atom</a></p>"]
    bulletins = public_bulletins(session, limit=20)
    if not bulletins:
        parts.append("<p>暂无通报。 No bulletins yet.</p>")
    for b in bulletins:
        when = b.published_at.strftime("%Y-%m-%d") if b.published_at else ""
        parts.append(f"<div class='bulletin'><h3>{e(b.title_zh)} / {e(b.title_en)}</h3>")
        if b.state == "withdrawn":
            parts.append(f"<p>本通报已撤回。 This bulletin has been withdrawn: {e(b.withdrawn_reason or '')}</p>")
        else:
            parts.append(f"<p lang='zh-CN'>{e(b.body_zh)}</p><p lang='en'>{e(b.body_en)}</p>")
        note = " · 已更正 corrected" if b.corrects else ""
        parts.append(f"<p class='meta'>{when}{note} · <a href='bulletins/{e(b.id)}'>JSON</a></p></div>")
    parts += [
        "<h2>开放数据 Open data</h2>",
        f"<p>{e(month)} 按类型和区域的警情统计（少于 {settings.public_k} 起的不公布）。 "
        f"Incidents of {e(month)} by type and area (groups under {settings.public_k} are not published): "
        f"<a href='stats?month={e(month)}&amp;format=csv'>CSV</a> · "
        f"<a href='stats?month={e(month)}&amp;format=geojson'>GeoJSON</a> · "
        f"<a href='stats?month={e(month)}'>JSON</a></p>",
        "</body></html>",
    ]
    return "".join(parts)
