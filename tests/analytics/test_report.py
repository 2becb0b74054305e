"""Accident early warning (a planted surge is flagged, a quiet place is not) and the weekly report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from precinct.analytics.cli import app
from precinct.analytics.events import from_arrays
from precinct.analytics.report import parse_week
from precinct.analytics.warning import accident_warning, hour_of_week
from precinct.errors import BadInput

runner = CliRunner()


def _events(seed: int = 0) -> tuple[np.ndarray, ...]:
    """120 days of crashes and burglaries over 5 km; a surge of 8 crashes at one junction in the last week."""
    rng = np.random.default_rng(seed)
    n = 1500
    x, y = rng.uniform(0, 5000, n) + 440_000, rng.uniform(0, 5000, n) + 4_400_000
    t = rng.uniform(0, 120, n)
    kinds = np.where(rng.random(n) < 0.5, "traffic_accident", "burglary")
    sx, sy = np.full(8, 442_610.0), np.full(8, 4_402_610.0)
    st = rng.uniform(113.5, 119.5, 8)
    x, y, t = np.r_[x, sx], np.r_[y, sy], np.r_[t, st]
    kinds = np.r_[kinds, np.full(8, "traffic_accident")]
    ts = np.datetime64("2026-08-01T00:00:00") + (t * 86400).astype("timedelta64[s]")
    return x, y, ts, kinds


def test_a_planted_accident_surge_is_flagged() -> None:
    x, y, ts, kinds = _events()
    ev = from_arrays(x=x, y=y, ts=ts, types=kinds, crs="EPSG:32650")
    out = accident_warning(ev, until=np.datetime64("2026-11-29T00:00:00"), cell_m=250)
    flagged = out["flagged"]
    assert len(flagged) == 1 and flagged[0]["observed"] >= 8
    assert abs(flagged[0]["x"] - 442_625) < 1 and abs(flagged[0]["y"] - 4_402_625) < 1
    assert hour_of_week(np.array(["2026-11-23T00:30:00", "2026-11-29T23:59:00"], dtype="datetime64[s]")).tolist() \
        == [0, 167]  # 2026-11-23 is a Monday


def test_the_surge_is_flagged_on_its_road_segment() -> None:
    from precinct.analytics.events import project_wgs84
    from precinct.city.road import RoadGraph

    g = RoadGraph.synthetic(size_km=3, seed=1)
    rng = np.random.default_rng(2)
    seg = rng.integers(0, g.segment_edges.size, 400)
    seg = np.r_[seg, np.full(8, 123)]
    edge = g.segment_edges[seg]
    mid = (g.node_xy[g.tail[edge]] + g.node_xy[g.head[edge]]) / 2
    lat, lon = g.frame.to_latlon(mid[:, 0], mid[:, 1])
    x, y, crs = project_wgs84(lat, lon)
    days = np.r_[rng.uniform(0, 90, 400), rng.uniform(84, 90, 8)]
    ts = np.datetime64("2026-09-01T00:00:00") + (days * 86400).astype("timedelta64[s]")
    ev = from_arrays(x=x, y=y, ts=ts, types=np.full(408, "traffic_accident"), crs=crs)
    out = accident_warning(ev, until=np.datetime64("2026-11-30T00:00:00"), graph=g)
    assert out["unit"] == "segment" and out["unsnapped"] == 0
    assert [f["edge"] for f in out["flagged"]] == [int(g.segment_edges[123])]


def test_weekly_report_html_and_pdf(tmp_path: Path) -> None:
    x, y, ts, kinds = _events(1)
    f = tmp_path / "in.csv"
    lines = ["id,ts,type,x,y"] + [f"{i},{t!s},{k},{a:.1f},{b:.1f}"
                                  for i, (t, k, a, b) in enumerate(zip(ts, kinds, x, y, strict=True))]
    f.write_text("\n".join(lines) + "\n")
    for name in ("r.html", "r.pdf"):
        r = runner.invoke(app, ["report", "--week", "2026-W48", "--out", str(tmp_path / name), "--input", str(f),
                                "--crs", "EPSG:32650", "--permutations", "19"])
        assert r.exit_code == 0, r.output
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "每周研判报告" in text and "Weekly analysis report" in text and "data:image/png;base64," in text
    assert "事故预警" in text and "Measured accuracy" in text
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert parse_week("2026-W48")[0] == np.datetime64("2026-11-23T00:00:00")
    with pytest.raises(BadInput, match="ISO week"):
        parse_week("2026-48")
