"""The weekly analysis report (每周研判报告), HTML or PDF, Simplified Chinese and English, aggregates only.

Sections: totals against last week and the same ISO week last year; by type; by hour of day;
Gi* hotspot map of the last 12 weeks; the near-repeat (Knox) table of the last year; the forecast
map for next week (self-exciting model) with its measured accuracy beside it (rolling-origin hit
rate and PAI against the KDE baseline); accident black spots (the early-warning rule). Each chart
is a PNG (embedded in the HTML, one page each in the PDF). No incident ids, no people.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from precinct.analytics.events import Events
from precinct.errors import BadInput


def parse_week(text: str) -> tuple[np.datetime64, np.datetime64]:
    """``2026-W48`` as ``[Monday 00:00, next Monday 00:00)``."""
    try:
        year, week = text.upper().split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise BadInput(f"week: {text!r} is not an ISO week like 2026-W48", detail={"field": "week"}) from None
    start = np.datetime64(monday, "s")
    return start, start + np.timedelta64(7, "D")


def _in(ev: Events, a: np.datetime64, b: np.datetime64) -> Events:
    return ev.select((ev.ts >= a) & (ev.ts < b))


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def build(events: Events, *, week: str, cell_m: float = 250.0, permutations: int = 99,
          station_areas: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Compute the report's figures and charts (matplotlib figures) for one ISO week.

    ``station_areas`` (``{"id", "name_zh", "name_en", "points": [[lat, lon], ...]}``, e.g. from
    ``precinct.public.service.station_areas``) adds counts by station area (``by_station_area``).
    """
    import matplotlib

    from precinct.analytics.areas import counts_by_area

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from precinct.analytics.evaluate import evaluate
    from precinct.analytics.forecast import Train, fit_sepp
    from precinct.analytics.gistar import gi_star
    from precinct.analytics.grid import Grid, queen_weights
    from precinct.analytics.knox import knox_table
    from precinct.analytics.service import counts_by
    from precinct.analytics.warning import accident_warning

    start, end = parse_week(week)
    this = _in(events, start, end)
    if len(this) == 0:
        raise BadInput(f"no incidents in week {week}", detail={"field": "week"})
    last = _in(events, start - np.timedelta64(7, "D"), start)
    iso_year, iso_week, _ = start.astype(dt.datetime).isocalendar()
    try:
        ly_monday = np.datetime64(dt.date.fromisocalendar(iso_year - 1, min(iso_week, 52), 1), "s")
        last_year = _in(events, ly_monday, ly_monday + np.timedelta64(7, "D"))
    except ValueError:  # year 1 has no year before it
        last_year = events.select(np.zeros(len(events), dtype=bool))
    figs: dict[str, Any] = {}
    types = sorted(set(counts_by(this, key="type")) | set(counts_by(last, key="type")))
    by_type = [{"type": t, "this_week": counts_by(this, key="type").get(t, 0),
                "last_week": counts_by(last, key="type").get(t, 0) if len(last) else 0,
                "last_year": counts_by(last_year, key="type").get(t, 0) if len(last_year) else 0} for t in types]
    hours = counts_by(this, key="hour")
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.bar(range(24), [hours[str(h)] for h in range(24)], color="#3b6ea5")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("incidents")
    ax.set_title("Incidents by hour of day")
    figs["hours"] = fig
    # hotspots over the last 12 weeks
    recent = _in(events, end - np.timedelta64(84, "D"), end)
    grid = Grid.covering(recent.x, recent.y, cell_m=cell_m, crs=events.crs)
    counts = grid.counts(recent.x, recent.y)
    gi = gi_star(counts, queen_weights(grid.nrows, grid.ncols), permutations=permutations, seed=0)
    sig = np.where((gi.p_sim is not None) & (gi.p_sim <= 0.05) & (gi.z > 0), gi.z, np.nan)  # type: ignore[operator]
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(grid.as_image(sig), origin="lower", cmap="Reds",
                   extent=(grid.x0, grid.x0 + grid.ncols * cell_m, grid.y0, grid.y0 + grid.nrows * cell_m))
    fig.colorbar(im, ax=ax, label="Gi* z (p_sim <= 0.05)")
    ax.set_title(f"Hotspots, last 12 weeks ({events.crs}, {cell_m:g} m)")
    figs["hotspots"] = fig
    # near-repeat table over the last year
    year = _in(events, end - np.timedelta64(365, "D"), end)
    knox = None
    if len(year) >= 2:
        tab = knox_table(year.x, year.y, year.days(), distance_edges=[0, 100, 200, 400],
                         time_edges=[0, 7, 14, 28], permutations=permutations, seed=0, keep_median=False)
        knox = {"rows": tab.rows(), "zone": tab.zone()}
    # forecast for next week with its measured accuracy
    train = _in(events, end - np.timedelta64(365, "D"), end)
    t_origin = train.ts.min().astype("datetime64[D]")
    tt = train.days(t_origin)
    t_end = float((end - t_origin) / np.timedelta64(1, "D"))
    fgrid = Grid.covering(train.x, train.y, cell_m=cell_m, crs=events.crs)
    fc = None
    accuracy = None
    if len(train) >= 10:
        tr = Train(train.x, train.y, tt)
        fit = fit_sepp(fgrid, tr, t_end=t_end)
        fc = fit.forecast(fgrid, tr, t_end, 7.0)
        fig, ax = plt.subplots(figsize=(6, 5))
        im = ax.imshow(fgrid.as_image(fc), origin="lower", cmap="viridis",
                       extent=(fgrid.x0, fgrid.x0 + fgrid.ncols * cell_m, fgrid.y0, fgrid.y0 + fgrid.nrows * cell_m))
        fig.colorbar(im, ax=ax, label="expected incidents next week")
        ax.set_title("Forecast for next week (self-exciting model)")
        figs["forecast"] = fig
        past = events.select(events.ts < end)
        span = float((past.ts.max() - past.ts.min()) / np.timedelta64(1, "D"))
        train_days = min(365.0, max(28.0, span - 4 * 7 - 1))
        try:
            accuracy = evaluate(past, cell_m=cell_m, train_days=train_days, test_days=7, origins=4,
                                area_shares=(0.05, 0.01), methods=("kde", "prospective", "sepp"))
        except BadInput:
            accuracy = None
    try:
        warning = accident_warning(events, until=end, cell_m=cell_m)
    except BadInput:
        warning = None
    return {"week": week, "start": str(start), "end": str(end), "crs": events.crs, "totals": {
        "this_week": len(this), "last_week": len(last), "same_week_last_year": len(last_year)},
        "by_type": by_type, "by_hour": hours,
        "by_station_area": counts_by_area({"this_week": this, "last_week": last, "last_year": last_year},
                                          station_areas or []),
        "knox": knox, "accuracy": accuracy, "accidents": warning,
        "hotspot_cells": int(np.isfinite(sig).sum()), "figures": figs}


def _table(rows: list[list[Any]], head: list[str]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def render_html(rep: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (charts embedded as PNG)."""
    tot = rep["totals"]
    parts = [f"<h1>每周研判报告 Weekly analysis report — {html.escape(rep['week'])}</h1>",
             f"<p>{rep['start'][:10]} – {rep['end'][:10]} · {html.escape(rep['crs'])} · "
             "仅含汇总数据，不含个人信息 / aggregates only, no personal data</p>",
             "<h2>总量 Totals</h2>",
             _table([[tot["this_week"], tot["last_week"], tot["same_week_last_year"]]],
                    ["本周 this week", "上周 last week", "去年同期 same week last year"]),
             "<h2>按类型 By type</h2>",
             _table([[r["type"], r["this_week"], r["last_week"], r["last_year"]] for r in rep["by_type"]],
                    ["类型 type", "本周 this week", "上周 last week", "去年同期 last year"])]
    if rep.get("by_station_area"):
        parts.append("<h2>按辖区 By station area</h2>")
        parts.append(_table([[f"{r['name_zh']} {r['name_en']}", r["this_week"], r["last_week"], r["last_year"]]
                             for r in rep["by_station_area"]],
                            ["辖区 station area", "本周 this week", "上周 last week", "去年同期 last year"]))
    for key, title in (("hours", "按时段 By hour of day"), ("hotspots", "热点 Hotspots (Gi*)"),
                       ("forecast", "下周预测 Forecast for next week")):
        if key in rep["figures"]:
            data = base64.b64encode(_png(rep["figures"][key])).decode()
            parts.append(f"<h2>{title}</h2><img alt='{key}' src='data:image/png;base64,{data}'>")
        if key == "forecast":
            acc = rep["accuracy"]
            if acc:
                parts.append("<p>预测准确度（滚动起点评估） Measured accuracy (rolling origin, "
                             f"{len(acc['origins'])} weeks):</p>")
                parts.append(_table([[m["method"], f"{b['area_share']:.0%}", f"{b['hit_rate']:.3f}", f"{b['pai']:.2f}"]
                                     for m in acc["methods"] for b in m["by_area_share"]],
                                    ["方法 method", "面积 area", "命中率 hit rate", "PAI"]))
            else:
                parts.append("<p>数据不足，无法评估 Too little history to evaluate the forecast.</p>")
    if rep["knox"]:
        parts.append("<h2>近重复 Near-repeat (Knox)</h2>")
        parts.append(_table([[f"{r['distance_m'][0]:g}-{r['distance_m'][1]:g}", f"{r['time_days'][0]:g}-"
                              f"{r['time_days'][1]:g}", r["observed"], f"{r['expected']:.1f}",
                              "" if r["knox_ratio"] is None else f"{r['knox_ratio']:.2f}", r["p_value"]]
                             for r in rep["knox"]["rows"]],
                            ["距离 m", "天 days", "观测 observed", "期望 expected", "Knox ratio", "p"]))
        z = rep["knox"]["zone"]
        parts.append(f"<p>近重复区 Near-repeat zone: {z['distance_m']:g} m, {z['time_days']:g} days</p>" if z
                     else "<p>无显著近重复 No significant near-repeat.</p>")
    acc_w = rep["accidents"]
    parts.append("<h2>事故预警 Accident black spots</h2>")
    if acc_w and acc_w["flagged"]:
        parts.append(_table([[c["rank"], f"{c['lat']:.5f}, {c['lon']:.5f}", c["observed"], f"{c['expected']:.2f}",
                              f"{c['p']:.4f}"] for c in acc_w["flagged"]],
                            ["#", "位置 place", "观测 observed", "基线 baseline", "p"]))
    else:
        parts.append("<p>无预警 No cell above its baseline (or no accident data).</p>")
    parts.append("<p>预测只涉及地点和时间，不涉及个人；巡逻越多记录越多的反馈风险见 docs/ANALYTICS.md。"
                 " Forecasts concern places and times, never people; see docs/ANALYTICS.md on the feedback loop.</p>")
    style = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:960px;margin:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px}")
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>Weekly report {rep['week']}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")


def to_json(rep: dict[str, Any]) -> str:
    """The report's figures as JSON (everything but the chart images)."""
    return json.dumps({k: v for k, v in rep.items() if k != "figures"}, ensure_ascii=False, indent=1, default=str)


def write(rep: dict[str, Any], out: Path) -> Path:
    """Write ``.html``, ``.json`` (the figures without charts) or ``.pdf`` (a text page, then one per chart)."""
    suffix = out.suffix.lower()
    if suffix == ".html":
        out.write_text(render_html(rep), encoding="utf-8")
        return out
    if suffix == ".json":
        out.write_text(to_json(rep), encoding="utf-8")
        return out
    if suffix != ".pdf":
        raise BadInput("--out must end in .html, .json or .pdf", detail={"field": "out"})
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    tot = rep["totals"]
    lines = [f"Weekly analysis report {rep['week']} ({rep['start'][:10]} - {rep['end'][:10]})",
             "Aggregates only, no personal data.", "",
             f"Incidents: this week {tot['this_week']}, last week {tot['last_week']}, "
             f"same week last year {tot['same_week_last_year']}", ""]
    lines += [f"  {r['type']}: {r['this_week']} (last week {r['last_week']}, last year {r['last_year']})"
              for r in rep["by_type"][:25]]
    if rep.get("by_station_area"):
        lines += ["", "By station area (this week, last week, same week last year):"]
        lines += [f"  {r['name_en']} ({r['id']}): {r['this_week']}, {r['last_week']}, {r['last_year']}"
                  for r in rep["by_station_area"][:40]]
    if rep["accuracy"]:
        lines += ["", "Forecast accuracy (rolling origin):"]
        lines += [f"  {m['method']}: hit rate {m['hit_rate']:.3f}, PAI {m['pai']:.2f} at 5 %" for m in
                  rep["accuracy"]["methods"]]
    if rep["knox"] and rep["knox"]["zone"]:
        z = rep["knox"]["zone"]
        lines += ["", f"Near-repeat zone: {z['distance_m']:g} m for {z['time_days']:g} days"]
    with PdfPages(out) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.06, 0.96, "\n".join(lines), va="top", family="monospace", fontsize=8)
        pdf.savefig(fig)
        for f in rep["figures"].values():
            pdf.savefig(f)
    return out
