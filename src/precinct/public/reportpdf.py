"""The monthly transparency report as PDF (matplotlib's PDF backend, as the analytics weekly report).

Page 1 holds every figure of :func:`precinct.public.report.monthly_report` in tables (incidents by
type, time to arrival, callbacks and satisfaction, oversight of personal-data queries); page 2 a
bar chart of incidents by type when there are any. Bilingual when a font with Chinese glyphs is
installed (Noto Sans CJK, WenQuanYi, Source Han Sans, ...); otherwise English only, so that no
character is drawn as a missing-glyph box. Only the report's aggregate figures are printed.
"""

from __future__ import annotations

import io
from typing import Any

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Noto Serif CJK SC", "Droid Sans Fallback", "SimHei", "Microsoft YaHei")
A4 = (8.27, 11.69)


def cjk_font() -> str | None:
    """The name of an installed font with Simplified Chinese glyphs (None when there is none)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def _label(zh: str, en: str, bilingual: bool) -> str:
    return f"{zh} {en}" if bilingual else en


def _sections(report: dict[str, Any], bilingual: bool) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, column names, rows) of each table on the first page."""
    b = bilingual
    types = [[_label(t["type_zh"], t["type_en"], b), str(t["count"])] for t in report["incidents_by_type"]]
    times = [[p, str(v["attended"]), f"{v['median_minutes']}"] for p, v in report["response_times"].items()]
    cb = report["callbacks"]["overall"]
    sat = (f"{cb['satisfied_pct']} % ({cb['mean_score']} / 5)" if "satisfied_pct" in cb
           else _label(f"— (少于 {report['k']} 份)", f"— (fewer than {report['k']} answers)", b))
    callbacks = [[_label("任务", "Tasks", b), str(cb["tasks"])], [_label("回访成功", "Reached", b), str(cb["reached"])],
                 [_label("未接通", "Not reached", b), str(cb["not_reached"])],
                 [_label("拒访", "Declined", b), str(cb["declined"])],
                 [_label("投诉", "Complaints", b), str(cb["complaints"])], [_label("满意度", "Satisfaction", b), sat]]
    ov = report["oversight"]
    oversight = [[_label("查询目的", "Reads, purpose", b) + f": {p}", str(n)]
                 for p, n in ov["personal_data_reads_by_purpose"].items()]
    oversight += [[_label("拒绝的请求", "Refused requests", b), str(ov["refusals"])],
                  [_label("到期删除", "Retention erasures", b), str(ov["retention_erasures"])]]
    return [
        (_label("警情（按类型）", "Incidents by type", b), [_label("类型", "Type", b), _label("起数", "Count", b)],
         types),
        (_label("到场时间", "Time to arrival", b), [_label("等级", "Priority", b), _label("到场", "Attended", b),
                                                   _label("中位数（分钟）", "Median minutes", b)], times),
        (_label("回访", "Callbacks", b), ["", ""], callbacks),
        (_label("个人信息查询监督", "Oversight of personal-data queries", b), ["", ""], oversight),
    ]


def render_pdf(report: dict[str, Any], *, agency: str) -> bytes:
    """The report (from :func:`precinct.public.report.monthly_report`) as a PDF document.

    Parameters
    ----------
    report : dict
        The JSON-able report of one month.
    agency : str
        The publishing agency's name (printed as the title).

    Returns
    -------
    bytes
        The PDF file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    font = cjk_font()
    bilingual = font is not None
    if not bilingual:  # an agency name in Chinese would print as boxes: keep its ASCII part
        agency = "".join(c for c in agency if c.isascii()).strip(" /") or "Precinct"
    rc: dict[str, Any] = {"pdf.fonttype": 42, "font.family": ["DejaVu Sans", *([font] if font else [])], "font.size": 9}
    buf = io.BytesIO()
    style = matplotlib.rc_context(rc)  # type: ignore[arg-type]  # rc keys typed as literals upstream
    with style, PdfPages(buf, metadata={
            "Title": f"Transparency report {report['month']}", "Author": agency,
            "Subject": "Aggregate figures only; groups smaller than k are not published"}) as pdf:
        fig = plt.figure(figsize=A4)
        y = 0.95
        fig.text(0.07, y, agency, fontsize=15, weight="bold")
        y -= 0.03
        fig.text(0.07, y, _label("透明度报告", "Transparency report", bilingual) + f" · {report['month']}", fontsize=12)
        y -= 0.025
        fig.text(0.07, y, _label(f"少于 {report['k']} 起的分组不公布。", f"Groups of fewer than {report['k']} "
                                 "are not published.", bilingual), fontsize=8, color="#555")
        for heading, cols, rows in _sections(report, bilingual):
            y -= 0.035
            fig.text(0.07, y, heading, fontsize=11, weight="bold")
            if any(cols):
                y -= 0.02
                for i, c in enumerate(cols):
                    fig.text(0.09 + 0.42 * (i > 0) + 0.16 * max(0, i - 1), y, c, color="#555")
            for row in rows[:30] or [["—"]]:
                y -= 0.018
                for i, cell in enumerate(row):
                    fig.text(0.09 + 0.42 * (i > 0) + 0.16 * max(0, i - 1), y, cell)
                if y < 0.05:
                    break
        pdf.savefig(fig)
        plt.close(fig)
        types = report["incidents_by_type"][:20]
        if types:
            fig, ax = plt.subplots(figsize=A4)
            labels = [_label(t["type_zh"], t["type_en"], bilingual) for t in types][::-1]
            ax.barh(labels, [t["count"] for t in types][::-1], color="#1c7ed6")
            ax.set_title(_label("警情（按类型）", "Incidents by type", bilingual) + f" · {report['month']}")
            ax.set_xlabel(_label("起数", "Count", bilingual))
            fig.tight_layout()
            pdf.savefig(fig)
            plt.close(fig)
    return buf.getvalue()
