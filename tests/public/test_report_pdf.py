"""The transparency report as PDF: every published figure of the JSON report is on the page, no
personal value is, and the route and the CLI serve it. The text is read back from the PDF by a
small independent extractor below (inflate the streams, map each font's codes through its
ToUnicode CMap), not by the code that wrote it."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.core import audit
from precinct.core.db import Database
from precinct.public.report import monthly_report
from precinct.public.reportpdf import cjk_font, render_pdf

NOW = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 10, 8, tzinfo=dt.UTC)


def rec(i: int, type_: str = "theft", priority: str = "yellow", minutes: float = 10.0) -> dict[str, Any]:
    ts = T0 + dt.timedelta(hours=i)
    return {"id": f"INC-{i:04d}", "ts": ts, "type": type_, "priority": priority, "lat": 32.49, "lon": 119.92,
            "status": "closed", "closed_at": ts + dt.timedelta(hours=1),
            "arrived_at": ts + dt.timedelta(minutes=minutes),
            "caller_phone": "13800138000", "description": "张三 苏A12345 家中被盗"}


# --- a minimal PDF text extractor (enough for matplotlib's output) --------------------------------

def _objects(pdf: bytes) -> dict[int, bytes]:
    out = {}
    for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", pdf, re.S):
        body = m.group(2)
        s = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
        if s and b"/FlateDecode" in body[:s.start()]:
            body = body[:s.start()] + b"stream\n" + zlib.decompress(s.group(1)) + b"\nendstream"
        out[int(m.group(1))] = body
    return out


def _cmap(text: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)", block):
            lo_i, hi_i = int(lo, 16), int(hi, 16)
            if dst.startswith(b"["):
                for k, d in enumerate(re.findall(rb"<([0-9a-fA-F]+)>", dst)):
                    table[lo_i + k] = bytes.fromhex(d.decode()).decode("utf-16-be")
            else:
                base = int(dst[1:-1], 16)
                for k in range(hi_i - lo_i + 1):
                    table[lo_i + k] = chr(base + k)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            table[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    return table


def _literal(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C:  # backslash
            i += 1
            n = raw[i:i + 1]
            if n.isdigit():
                j = i
                while j < min(i + 3, len(raw)) and raw[j:j + 1].isdigit():
                    j += 1
                out.append(int(raw[i:j], 8) & 0xFF)
                i = j
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(n, n)
        else:
            out.append(c)
        i += 1
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages, one line per text object."""
    objs = _objects(pdf)
    fonts: dict[bytes, dict[int, str]] = {}
    for body in objs.values():
        for name, num in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            tu = re.search(rb"/ToUnicode (\d+) 0 R", objs.get(int(num), b""))
            if tu:
                fonts[name] = _cmap(objs[int(tu.group(1))])
    lines = []
    for body in objs.values():
        for block in re.findall(rb"\bBT\b(.*?)\bET\b", body, re.S):
            font: dict[int, str] = {}
            text = []
            for tok in re.finditer(rb"/(F\d+) [\d.]+ Tf|\((?:[^()\\]|\\.)*\)", block, re.S):
                if tok.group(1):
                    font = fonts.get(tok.group(1), {})
                    continue
                raw = _literal(tok.group(0)[1:-1])
                codes = (int.from_bytes(raw[k:k + 2], "big") for k in range(0, len(raw) - 1, 2))
                text.append("".join(font.get(c, "?") for c in codes))
            lines.append("".join(text))
    return "\n".join(lines)


# --- tests -----------------------------------------------------------------------------------------

def report_of(db: Database) -> dict[str, Any]:
    rows = [rec(i, minutes=m) for i, m in enumerate((4, 6, 8, 10, 12))] + [rec(10 + i, "fight", "orange", 20)
                                                                           for i in range(6)]
    with db.session() as s:
        audit.append(s, actor="a1", role="analyst", action="consultation", resource="anpr.trajectory",
                     case_id="C1", purpose="investigation", at=dt.datetime(2026, 11, 5, tzinfo=dt.UTC))
    with db.sessionmaker() as s:
        return monthly_report(s, month="2026-11", k=5, source=lambda _s, **_kw: rows, now=NOW)


def test_every_published_figure_is_in_the_pdf_and_no_personal_value(db: Database) -> None:
    report = report_of(db)
    pdf = render_pdf(report, agency="Precinct 公安局 / Precinct Police")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2  # the figures, then the chart
    text = pdf_text(pdf)
    lines = [ln.strip() for ln in text.splitlines()]
    assert "Transparency report · 2026-11" in text
    counts = {t["type_en"]: t["count"] for t in report["incidents_by_type"]}
    assert counts == {"Fight": 6, "Theft": 5}  # the report's own figures (its tests check them)
    for name, n in counts.items():
        assert str(n) in lines and any(ln.endswith(name) for ln in lines), (name, n)
    for prio, v in report["response_times"].items():  # yellow 8.0 and orange 20.0
        assert prio in lines and f"{v['median_minutes']}" in lines and str(v["attended"]) in lines
    assert {"yellow", "orange"} <= set(report["response_times"])
    for value in ("13800138000", "苏A12345", "张三", "INC-0001"):
        assert value not in text and value.encode() not in pdf
    if cjk_font():
        assert "透明度报告 Transparency report · 2026-11" in text and any(ln.startswith("盗窃") for ln in lines)


def test_route_and_cli_serve_the_pdf(client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    from precinct.public import report as report_mod

    monkeypatch.setattr(report_mod, "default_source", lambda _s, **_kw: [rec(i) for i in range(5)])
    r = client.get("/api/v1/public/report", params={"month": "2026-11", "format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "Theft" in pdf_text(r.content)
    assert client.get("/api/v1/public/report", params={"month": "2026-11", "format": "docx"}).status_code == 422
    out = tmp_path / "r.pdf"
    res = CliRunner().invoke(cli_app, ["public", "report", "--month", "2026-11", "--format", "pdf", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Theft" in pdf_text(out.read_bytes())
    res = CliRunner().invoke(cli_app, ["public", "report", "--month", "2026-11", "--format", "odt"])
    assert res.exit_code != 0 and "odt" in str(res.exception)
