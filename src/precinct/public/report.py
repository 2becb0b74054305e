"""The monthly transparency report (透明度报告): what Precinct can honestly publish about a month.

- incidents by type (the open data's area-level counts added up: only what is published anyway);
- response times: median minutes from the call to the first unit on scene, per priority colour,
  for colours with at least ``k`` attended incidents;
- callbacks and satisfaction (groups under ``k`` reached callers give no score);
- oversight: personal-data reads by purpose, refusals and retention erasures from the audit log
  (counts only; who read what stays in the log for auditors).

As JSON (:func:`monthly_report`) and a self-contained bilingual HTML page (:func:`render_html`).
A PDF is not produced: print the HTML page.
"""

from __future__ import annotations

import datetime as dt
import html
import statistics
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.core.models import AuditRecord
from precinct.public.callbacks import satisfaction
from precinct.public.stats import Source, default_source, monthly_stats, parse_month


def _oversight(session: Session, *, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    lo, hi = since.isoformat(timespec="microseconds"), until.isoformat(timespec="microseconds")
    window = (AuditRecord.ts >= lo, AuditRecord.ts < hi)
    reads = session.execute(select(AuditRecord.purpose, func.count()).where(
        *window, AuditRecord.outcome == "ok", AuditRecord.purpose.is_not(None),
        AuditRecord.action.in_(("consultation", "disclosure", "combination"))).group_by(AuditRecord.purpose))
    refusals = session.scalar(select(func.count()).select_from(AuditRecord).where(
        *window, AuditRecord.outcome == "refused")) or 0
    erasures = session.scalar(select(func.count()).select_from(AuditRecord).where(
        *window, AuditRecord.action == "erasure")) or 0
    return {"personal_data_reads_by_purpose": {str(p): int(n) for p, n in sorted(reads, key=lambda r: str(r[0]))},
            "refusals": int(refusals), "retention_erasures": int(erasures)}


def _response_times(rows: list[dict[str, Any]], k: int) -> dict[str, Any]:
    by: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r.get("arrived_at") and r.get("ts") and r["arrived_at"] >= r["ts"]:
            by[str(r.get("priority"))].append((r["arrived_at"] - r["ts"]).total_seconds() / 60)
    return {p: {"attended": len(v), "median_minutes": round(statistics.median(v), 1)}
            for p, v in sorted(by.items()) if len(v) >= k}


def monthly_report(session: Session, *, month: str, k: int, source: Source | None = None,
                   station_areas: list[dict[str, Any]] | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """The transparency report of ``month`` (``YYYY-MM``) as JSON-able data."""
    m = parse_month(month, now=now)
    src = source or default_source
    rows = src(session, since=m.since, until=m.until)
    stats = monthly_stats(session, month=month, k=k, source=lambda _s, **_kw: rows,
                          station_areas=station_areas or [], now=now)
    by_type: Counter[str] = Counter()
    names = {}
    for a in stats["areas"]:
        by_type[a["type"]] += a["count"]
        names[a["type"]] = (a["type_zh"], a["type_en"])
    return {
        "month": m.label, "k": k, "complete": stats["complete"],
        "incidents_by_type": [{"type": t, "type_zh": names[t][0], "type_en": names[t][1], "count": n}
                              for t, n in by_type.most_common()],
        "response_times": _response_times(rows, k),
        "callbacks": satisfaction(session, since=m.since, until=m.until, k=k),
        "oversight": _oversight(session, since=m.since, until=m.until),
    }


def render_html(report: dict[str, Any], *, agency: str) -> str:
    """The report as a self-contained bilingual HTML page (printable to PDF)."""
    e = html.escape
    rows = "".join(f"<tr><td>{e(t['type_zh'])} {e(t['type_en'])}</td><td>{t['count']}</td></tr>"
                   for t in report["incidents_by_type"]) or "<tr><td colspan=2>—</td></tr>"
    rts = "".join(f"<tr><td>{e(p)}</td><td>{v['attended']}</td><td>{v['median_minutes']}</td></tr>"
                  for p, v in report["response_times"].items()) or "<tr><td colspan=3>—</td></tr>"
    cb = report["callbacks"]["overall"]
    sat = (f"{cb['satisfied_pct']} % ({cb['mean_score']} / 5)" if "satisfied_pct" in cb
           else f"— (少于 {report['k']} 份 fewer than {report['k']} answers)")
    ov = report["oversight"]
    reads = "".join(f"<li>{e(p)}: {n}</li>" for p, n in ov["personal_data_reads_by_purpose"].items()) or "<li>0</li>"
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{e(agency)} · 透明度报告 Transparency report {e(report['month'])}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:auto;padding:1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .6rem}</style></head><body>"
        f"<h1>{e(agency)}</h1><h2>透明度报告 Transparency report · {e(report['month'])}</h2>"
        f"<p>少于 {report['k']} 起的分组不公布。 Groups of fewer than {report['k']} are not published.</p>"
        "<h3>警情 Incidents by type</h3><table><tr><th>类型 Type</th><th>起数 Count</th></tr>"
        f"{rows}</table>"
        "<h3>到场时间 Time to arrival</h3><table><tr><th>等级 Priority</th><th>到场 Attended</th>"
        f"<th>中位数（分钟） Median minutes</th></tr>{rts}</table>"
        f"<h3>回访 Callbacks</h3><p>任务 Tasks {cb['tasks']} · 回访成功 Reached {cb['reached']} · "
        f"拒访 Declined {cb['declined']} · 未接通 Not reached {cb['not_reached']} · 投诉 Complaints "
        f"{cb['complaints']}</p><p>满意度 Satisfaction: {sat}</p>"
        "<h3>个人信息查询监督 Oversight of personal-data queries</h3>"
        f"<p>按目的的查询次数 Reads by purpose:</p><ul>{reads}</ul>"
        f"<p>拒绝的请求 Refused requests: {ov['refusals']} · 到期删除 Retention erasures: "
        f"{ov['retention_erasures']}</p></body></html>"
    )
