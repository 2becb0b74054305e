"""Counts by police station area in the weekly report, against a brute-force point-in-polygon count."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from precinct.analytics.areas import assign_areas, counts_by_area
from precinct.analytics.cli import app
from precinct.analytics.events import from_records
from precinct.analytics.report import build, render_html, to_json
from precinct.errors import BadInput

# Two station areas around Beijing (lat, lon rings): a rectangle and a non-convex "L" beside it.
AREAS = [
    {"id": "ST-1", "name_zh": "东城派出所", "name_en": "Dongcheng",
     "points": [[39.90, 116.38], [39.90, 116.40], [39.92, 116.40], [39.92, 116.38]]},
    {"id": "ST-2", "name_zh": "西城派出所", "name_en": "Xicheng",
     "points": [[39.90, 116.40], [39.90, 116.43], [39.91, 116.43], [39.91, 116.41], [39.93, 116.41],
                [39.93, 116.40]]},
]


def _inside(lat: float, lon: float, ring: list[list[float]]) -> bool:
    """Ray casting (even-odd rule) in degrees: the textbook test, independent of shapely and pyproj."""
    inside = False
    n = len(ring)
    for i in range(n):
        (y1, x1), (y2, x2) = ring[i], ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _edge_distance(lat: float, lon: float, ring: list[list[float]]) -> float:
    """Smallest distance in degrees to the ring's edges (points this close are left out of the test)."""
    best = np.inf
    p = np.array([lat, lon])
    for i in range(len(ring)):
        a, b = np.array(ring[i]), np.array(ring[(i + 1) % len(ring)])
        t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0, 1)
        best = min(best, float(np.linalg.norm(p - (a + t * (b - a)))))
    return best


def _records(n: int, seed: int, start: str) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out = []
    t0 = np.datetime64(start)
    while len(out) < n:
        lat, lon = rng.uniform(39.895, 39.935), rng.uniform(116.375, 116.435)
        if min(_edge_distance(lat, lon, a["points"]) for a in AREAS) < 5e-5:  # ~5 m
            continue
        out.append({"id": f"I{len(out)}", "type": "burglary", "lat": lat, "lon": lon,
                    "ts": str(t0 + np.timedelta64(int(rng.integers(0, 7 * 86400)), "s"))})
    return out


def _brute(records: list[dict[str, object]]) -> list[int]:
    counts = [0] * (len(AREAS) + 1)
    for r in records:
        k = next((i for i, a in enumerate(AREAS) if _inside(float(r["lat"]), float(r["lon"]), a["points"])),  # type: ignore[arg-type]
                 len(AREAS))
        counts[k] += 1
    return counts


def test_each_event_is_in_the_area_ray_casting_says() -> None:
    recs = _records(600, 1, "2026-11-23T00:00:00")
    ev = from_records(recs)
    idx = assign_areas(ev, AREAS)
    for r, i in zip(recs, idx.tolist(), strict=True):
        want = next((k for k, a in enumerate(AREAS) if _inside(float(r["lat"]), float(r["lon"]), a["points"])), -1)  # type: ignore[arg-type]
        assert i == want, r
    rows = counts_by_area({"this_week": ev}, AREAS)
    assert [r["this_week"] for r in rows] == _brute(recs)
    assert [r["id"] for r in rows] == ["ST-1", "ST-2", "outside"] and sum(_brute(recs)[:2]) > 100


def test_weekly_report_breaks_counts_down_by_station_area(tmp_path: Path) -> None:
    this = _records(300, 2, "2026-11-23T00:00:00")  # 2026-W48
    last = _records(200, 3, "2026-11-16T00:00:00")
    ly = _records(100, 4, "2025-11-24T00:00:00")  # 2025-W48
    recs = [{**r, "id": f"{k}{r['id']}"} for k, part in (("a", this), ("b", last), ("c", ly)) for r in part]
    ev = from_records(recs)
    rep = build(ev, week="2026-W48", cell_m=250, permutations=9, station_areas=AREAS)
    got = {r["id"]: (r["this_week"], r["last_week"], r["last_year"]) for r in rep["by_station_area"]}
    want = list(zip(_brute(this), _brute(last), _brute(ly), strict=True))
    assert got == dict(zip(["ST-1", "ST-2", "outside"], want, strict=True))
    assert json.loads(to_json(rep))["by_station_area"] == rep["by_station_area"]
    page = render_html(rep)
    assert "按辖区 By station area" in page and "东城派出所 Dongcheng" in page
    assert "I1" not in to_json(rep)  # no incident ids
    # The CLI takes the areas as GeoJSON and writes the same figures as JSON.
    csv = tmp_path / "in.csv"
    csv.write_text("id,ts,type,lat,lon\n" + "".join(f"{r['id']},{r['ts']},burglary,{r['lat']},{r['lon']}\n"
                                                    for r in recs))
    gj = tmp_path / "areas.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {k: a[k] for k in ("id", "name_zh", "name_en")},
         "geometry": {"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in a["points"]]]}} for a in AREAS]}))
    out = tmp_path / "report.json"
    r = CliRunner().invoke(app, ["report", "--week", "2026-W48", "--out", str(out), "--input", str(csv),
                                 "--station-areas", str(gj), "--permutations", "9"])
    assert r.exit_code == 0, r.output
    rows = json.loads(out.read_text())["by_station_area"]
    assert [(r["this_week"], r["last_week"], r["last_year"]) for r in rows] == want
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection"}')
    r = CliRunner().invoke(app, ["report", "--week", "2026-W48", "--out", str(out), "--input", str(csv),
                                 "--station-areas", str(bad)])
    assert isinstance(r.exception, BadInput) and "bad.geojson" in str(r.exception)  # exit code 2 from the root CLI


def test_report_api_counts_by_the_installation_station_areas(client: Any, db: Any,
                                                             auth_headers: Callable[..., dict[str, str]],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import precinct.command.service as command
    from precinct.public.service import add_station_area

    with db.session() as s:
        for a in AREAS:
            add_station_area(s, station_id=a["id"], name_zh=a["name_zh"], name_en=a["name_en"],
                             points=[*a["points"], a["points"][0]])
    this = _records(150, 5, "2026-11-23T00:00:00")
    recs = [{**r, "ts": dt.datetime.fromisoformat(str(r["ts"])).replace(tzinfo=dt.UTC), "priority": "yellow",
             "status": "closed"} for r in this]

    def fake(session: Any, *, since: Any = None, until: Any = None, types: Any = None,
             include_merged: bool = False) -> list[dict[str, Any]]:
        return [r for r in recs if (since is None or r["ts"] >= since) and (until is None or r["ts"] < until)]

    monkeypatch.setattr(command, "incident_records", fake)
    r = client.get("/api/v1/analytics/report", params={"week": "2026-W48", "json": "true"},
                   headers=auth_headers("analyst"))
    assert r.status_code == 200, r.text
    rows = r.json()["by_station_area"]
    assert [(x["id"], x["this_week"]) for x in rows] == list(zip(["ST-1", "ST-2", "outside"], _brute(this),
                                                                strict=True))
    assert "I1" not in r.text
