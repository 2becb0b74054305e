"""End-to-end: the analyst's crime-analysis screen (研判) in headless Chromium against a real server.

The analyst opens the screen in both languages, finds Gi* hotspots (cells on the map, checked
against the API's own answer), runs the Knox table and a forecast, and saves charts and the map as
PNG files (checked as PNG).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.web.conftest import shot
from tests.web.server import Server
from tests.web.test_dashboard import Login

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n"
CLUSTER = (32.4930, 119.9230)


def _need(server: Server, *paths: str) -> None:
    missing = [p for p in paths if p not in server.paths()]
    if missing:
        pytest.skip(f"not on this server yet: {missing}")


def _burglaries(server: Server) -> None:
    """A tight cluster of burglaries and a few scattered ones, through the call-taking API."""
    rng = np.random.default_rng(16)
    pts = [(CLUSTER[0] + rng.normal(0, 0.0006), CLUSTER[1] + rng.normal(0, 0.0006)) for _ in range(24)]
    pts += [(32.4905 + rng.uniform(-0.02, 0.02), 119.9205 + rng.uniform(-0.02, 0.02)) for _ in range(16)]
    with server.api("call_taker") as c:
        for lat, lon in pts:
            r = c.post("/calls", json={"lat": round(float(lat), 6), "lon": round(float(lon), 6), "type": "burglary",
                                       "caller_phone": "13800000016", "description": "analytics e2e"})
            assert r.status_code == 201, r.text


def _features(page: Any, key: str) -> list[dict[str, Any]]:
    return list(page.evaluate(
        """(key) => { const g = window.__precinctMap.geoLayer(key); if (!g) return [];
             return g.getLayers().filter(l => l.feature).map(l => l.feature.properties); }""", key))


def _png(page: Any, button: str, tmp: Path) -> bytes:
    with page.expect_download() as dl:
        page.click(button)
    path = tmp / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.suffix == ".png"
    return path.read_bytes()


def test_analyst_finds_hotspots_and_saves_charts(page: Any, server: Server, login: Login, tmp_path: Path) -> None:
    _need(server, "/analytics/hotspots", "/analytics/knox", "/analytics/forecast")
    _burglaries(server)
    login(page, "analyst")
    dicts = page.evaluate("window.__precinctI18n")
    zh, en = dicts["zh-CN"], dicts["en"]
    mine = [k for k in en if k.startswith("an.") or k == "nav.analytics"]
    assert len(mine) > 60 and all(k in zh for k in mine)
    for k in mine:
        assert re.search(r"[\u4e00-\u9fff]", zh[k]), f"{k}: no Chinese in {zh[k]!r}"
        assert not re.search(r"[\u4e00-\u9fff]", en[k]), f"{k}: Chinese in the English {en[k]!r}"
    assert page.inner_text("#nav a[data-view=analytics]") == zh["nav.analytics"]
    page.goto(f"{server.url}/ui/#/analytics")
    page.wait_for_selector("body[data-map-ready='1']")
    page.wait_for_selector("#an-hot-run")
    assert page.inner_text("#an-hot-run") == zh["an.hot.run"]

    # Hotspots: the cells drawn on the map are the API's cells with incidents or significance.
    page.fill("#an-perm", "199")
    page.click("#an-hot-run")
    page.wait_for_selector("#an-hot-summary, #an-hot-error", timeout=60_000)
    assert page.query_selector("#an-hot-error") is None, page.inner_text("#an-hot-error")
    drawn = [f for f in _features(page, "risk") if f.get("kind") == "hotspot"]
    with server.api("analyst") as c:
        api = c.get("/analytics/hotspots", params={"cell_m": 250, "permutations": 199}).json()
    with_events = [c for c in api["cells"] if c["count"] > 0]
    hot = {c["cell_id"] for c in api["cells"] if c["gi_z"] > 0 and c["p_sim"] <= 0.1}
    assert {f["cell_id"] for f in drawn} == {c["cell_id"] for c in with_events} | hot
    assert sum(f["count"] for f in drawn) == api["events"] >= 40
    # the cluster's cell is among the significant hot ones, and is coloured as such
    cluster = max(with_events, key=lambda c: c["count"])
    assert cluster["count"] >= 10 and cluster["cell_id"] in hot
    assert next(f for f in drawn if f["cell_id"] == cluster["cell_id"])["fill"] in {"#99000d", "#e31a1c"}
    assert int(page.get_attribute("#an-hot-summary", "data-hot")) == sum(
        1 for c in api["cells"] if c["gi_z"] > 0 and c["p_sim"] <= 0.05)
    heads = page.eval_on_selector_all("#an-hot-table th", "els => els.map(e => e.textContent)")
    assert heads == [zh["an.col.cell"], zh["an.col.centre"], zh["an.col.count"], zh["an.col.z"], zh["an.col.p"]]

    data = _png(page, "#an-hot-png", tmp_path)
    assert data.startswith(PNG) and len(data) > 500
    data = _png(page, "#an-map-png", tmp_path)
    assert data.startswith(PNG) and len(data) > 2000

    # Near-repeat table: 4 distance x 3 time bands.
    page.click("#an-knox-run")
    page.wait_for_selector("#an-knox-table, #an-knox-error", timeout=60_000)
    assert page.query_selector("#an-knox-error") is None, page.inner_text("#an-knox-error")
    assert len(page.query_selector_all("#an-knox-table tbody tr")) == 12
    assert _png(page, "#an-knox-png", tmp_path).startswith(PNG)

    # Forecast areas on the map, as many as the summary says.
    page.select_option("#an-fc-method", "kde")
    page.click("#an-fc-run")
    page.wait_for_selector("#an-fc-summary, #an-fc-error", timeout=60_000)
    assert page.query_selector("#an-fc-error") is None, page.inner_text("#an-fc-error")
    n = int(page.get_attribute("#an-fc-summary", "data-cells"))
    assert n >= 1 and len([f for f in _features(page, "zones") if f.get("kind") == "forecast"]) == n
    # Near-repeat zones: every burglary here was called in within minutes, so time apart says nothing
    # (all pairs share the first time band): no pattern, no zones, said in words; forecast areas stay.
    page.click("#an-nr-run")
    page.wait_for_selector("#an-nr-summary, #an-nr-error", timeout=60_000)
    assert page.query_selector("#an-nr-error") is None, page.inner_text("#an-nr-error")
    assert page.get_attribute("#an-nr-summary", "data-zones") == "0"
    assert page.inner_text("#an-nr-summary") == zh["an.knox.noZone"]
    assert len([f for f in _features(page, "zones") if f.get("kind") == "forecast"]) == n
    page.evaluate("() => { document.querySelector('#panel').scrollTop = 0; }")
    shot(page, "analytics")

    # English: the same screen, no raw keys.
    page.click("#lang-switch")
    page.wait_for_selector("#an-hot-run")
    assert page.inner_text("#an-hot-run") == en["an.hot.run"]
    page.click("#an-hot-run")
    page.wait_for_selector("#an-hot-table")
    heads = page.eval_on_selector_all("#an-hot-table th", "els => els.map(e => e.textContent)")
    assert heads == [en["an.col.cell"], en["an.col.centre"], en["an.col.count"], en["an.col.z"], en["an.col.p"]]
    text = page.inner_text("#panel")
    assert not re.search(r"\ban\.[a-z]+\.", text), "a raw key is visible"
    assert not re.search(r"[\u4e00-\u9fff]", page.inner_text("#an-screen"))


def test_analyst_finds_hotspots_in_an_uploaded_csv(page: Any, server: Server, login: Login) -> None:
    _need(server, "/analytics/hotspots/csv")
    rng = np.random.default_rng(7)
    rows = ["id,ts,type,x,y"]
    for i in range(150):  # projected data (Beijing, EPSG:2385 metres), a cluster of 50 and the rest spread
        x, y = (447_000 + rng.normal(0, 60), 4_419_000 + rng.normal(0, 60)) if i < 50 else \
            (447_000 + rng.uniform(-2500, 2500), 4_419_000 + rng.uniform(-2500, 2500))
        rows.append(f"B{i},2026-11-{1 + i % 28:02d},burglary,{x:.1f},{y:.1f}")
    body = ("\n".join(rows) + "\n").encode()
    login(page, "analyst")
    page.goto(f"{server.url}/ui/#/analytics")
    page.wait_for_selector("#an-csv")
    page.set_input_files("#an-csv", files=[{"name": "burglaries.csv", "mimeType": "text/csv", "buffer": body}])
    page.fill("#an-crs", "EPSG:2385")
    page.fill("#an-perm", "99")
    page.click("#an-hot-run")
    page.wait_for_selector("#an-hot-summary, #an-hot-error", timeout=60_000)
    assert page.query_selector("#an-hot-error") is None, page.inner_text("#an-hot-error")
    assert page.get_attribute("#an-hot-summary", "data-events") == "150"
    assert "burglaries.csv" in page.inner_text("#an-hot-summary")
    drawn = [f for f in _features(page, "risk") if f.get("kind") == "hotspot"]
    assert sum(f["count"] for f in drawn) == 150
    top = max(drawn, key=lambda f: f["count"])
    assert top["count"] >= 10 and top["fill"] in {"#99000d", "#e31a1c"}
    # A bad row is named with its line, in the page.
    bad = body.replace(b"B7,2026-11-08", b"B7,not-a-date")
    page.set_input_files("#an-csv", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])
    page.click("#an-hot-run")
    page.wait_for_selector("#an-hot-error")
    assert "9" in page.inner_text("#an-hot-error")


def test_weekly_report_from_the_screen(page: Any, server: Server, login: Login, tmp_path: Path) -> None:
    import datetime as dt

    _need(server, "/analytics/report")
    _burglaries(server)
    year, week, _ = dt.datetime.now(dt.UTC).isocalendar()
    login(page, "supervisor")
    page.goto(f"{server.url}/ui/#/analytics")
    page.wait_for_selector("#an-week")
    page.fill("#an-week", "last week")
    page.click("#an-rep-html")
    assert page.inner_text("#an-rep-error") == page.evaluate("window.__precinctI18n")["zh-CN"]["an.rep.bad"]
    page.fill("#an-week", f"{year}-W{week:02d}")
    for button, check in (("#an-rep-html", lambda b: "每周研判报告" in b.decode() and "<img" in b.decode()),
                          ("#an-rep-pdf", lambda b: b.startswith(b"%PDF"))):
        with page.expect_download(timeout=120_000) as dl:
            page.click(button)
        path = tmp_path / dl.value.suggested_filename
        dl.value.save_as(path)
        assert check(path.read_bytes()), path
    assert page.query_selector("#an-rep-error") is None


def test_near_repeat_zones_are_drawn_as_circles(page: Any, server: Server, login: Login) -> None:
    """The screen's side of the zones (the API's answer is tested in tests/analytics): an answer with
    three zones becomes three circles of their radius on the map and three table rows."""
    import json

    _need(server, "/analytics/near-repeat-zones")
    zones = [{"lat": 32.4905 + 0.002 * i, "lon": 119.9205, "x": 0, "y": 0, "radius_m": 200.0, "type": "burglary",
              "since": f"2026-12-0{i + 1}T02:00:00", "until": f"2026-12-0{i + 8}T02:00:00"} for i in range(3)]
    answer = {"crs": "EPSG:32650", "events": 412, "zone": {"distance_m": 200.0, "time_days": 7.0}, "bands": [],
              "zones": zones, "types": "burglary"}
    page.route("**/api/v1/analytics/near-repeat-zones*",
               lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(answer)))
    login(page, "supervisor")
    page.goto(f"{server.url}/ui/#/analytics")
    page.wait_for_selector("body[data-map-ready='1']")
    page.click("#an-nr-run")
    page.wait_for_selector("#an-nr-table")
    assert page.get_attribute("#an-nr-summary", "data-zones") == "3"
    assert len(page.query_selector_all("#an-nr-table tbody tr")) == 3
    radii = page.evaluate(
        """() => window.__precinctMap.geoLayer("zones").getLayers()
             .filter(l => l.feature.properties.kind === "near_repeat")
             .map(l => { const b = l.getBounds(), ne = b.getNorthEast();
                         return ne.distanceTo(L.latLng(ne.lat, b.getSouthWest().lng)) / 2; })""")
    assert len(radii) == 3 and all(abs(r - 200) < 5 for r in radii), radii
