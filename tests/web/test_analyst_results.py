"""End-to-end: the analyst's ANPR results read in the UI's language (column names with their units,
local 24-hour times, no raw keys, no JSON in a cell), the searched area and the findings drawn on the
map, and results that survive a tab and a language switch without asking the server again.

Plate reads are seeded through the API (as the sim's cameras would send them) with microseconds in
their times; the browser runs in Asia/Shanghai, so a UTC time on screen cannot pass for a local one.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.web.server import Server
from tests.web.test_dashboard import Login

pytestmark = pytest.mark.browser

TZ = ZoneInfo("Asia/Shanghai")
CAMS = [(f"AN21-CAM-{i}", 32.480 + i * 0.004, 119.910 + i * 0.004) for i in range(5)]
SCENE = (32.488, 119.918, 1.5)  # lat, lon, radius_km: around the third camera


@pytest.fixture
def shanghai_page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def _need(server: Server) -> None:
    paths = server.paths()
    if not {"/anpr/associate", "/anpr/trajectory/{plate}"} <= paths:
        pytest.skip("no association or trajectory route on this server")


def _seed(server: Server) -> tuple[str, str, list[dt.datetime]]:
    """A vehicle past the five cameras two minutes apart and one 20 s behind it; their plates and
    the first vehicle's read times (UTC, with microseconds)."""
    n = int(time.time() * 1000) % 100_000
    target, follower = f"苏E{n:05d}", f"苏F{n:05d}"
    base = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=654321)
    times = [base + dt.timedelta(minutes=2 * i) for i in range(len(CAMS))]
    reads = []
    for ts, (cam, lat, lon) in zip(times, CAMS, strict=True):
        reads.append({"plate": target, "ts": ts.isoformat(), "lat": lat, "lon": lon, "camera_id": cam})
        reads.append({"plate": follower, "ts": (ts + dt.timedelta(seconds=20)).isoformat(), "lat": lat, "lon": lon,
                      "camera_id": cam})
    with server.api("admin") as c:
        r = c.post("/anpr/reads", json=reads)
        assert r.status_code == 200, r.text
        assert r.json()["stored"] == len(reads), r.text
    return target, follower, times


def _local(ts: dt.datetime) -> str:
    return ts.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")


def _typed(ts: dt.datetime) -> str:
    return ts.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _features(page: Any, key: str, kind: str | None = None) -> list[dict[str, Any]]:
    return list(page.evaluate(
        """([key, kind]) => { const g = window.__precinctMap.geoLayer(key); if (!g) return [];
             return g.getLayers().filter(l => l.feature && (!kind || l.feature.properties.kind === kind))
                     .map(l => l.feature.properties); }""", [key, kind]))


def _heads(page: Any) -> dict[str, str]:
    return dict(page.eval_on_selector_all("#query-table th", "els => els.map(e => [e.dataset.col, e.textContent])"))


def _column(page: Any, col: str) -> list[str]:
    return list(page.eval_on_selector_all(f"#query-table td[data-col={col}]", "els => els.map(e => e.textContent)"))


def _row_of(page: Any, plate: str) -> dict[str, str]:
    return dict(page.evaluate(
        """(plate) => { const tr = [...document.querySelectorAll('#query-table tbody tr')]
             .find(r => r.querySelector('td[data-col=plate]')?.textContent === plate);
             return tr ? [...tr.querySelectorAll('td')].map(td => [td.dataset.col, td.textContent]) : []; }""", plate))


def _fill(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"#q-{name}", value)


def _run(page: Any) -> None:
    page.click("#query-run")
    page.wait_for_selector("#query-count, #query-error, #case-id")


def _assert_readable(page: Any, words: dict[str, str]) -> None:
    """No raw key as a header, no JSON or UTC microseconds in a cell, every header in ``words``."""
    text = page.inner_text("#query-results")
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{3,}", text), "a time with microseconds"
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}", text), "an ISO time, not a local one"
    assert "{" not in text and '":' not in text, "JSON in a cell"
    for col, head in _heads(page).items():
        assert head and not re.fullmatch(r"[a-z_.]+", head), f"raw key as the header of {col}: {head}"
        if col in ("rank", "seq"):
            continue
        assert head == words[f"an.col.{col}"], (col, head)


@pytest.mark.parametrize("ui_lang", ["zh-CN", "en"])
def test_analyst_results_are_readable_drawn_and_kept(shanghai_page: Any, server: Server, login: Login,
                                                     ui_lang: str) -> None:
    _need(server)
    page = shanghai_page
    target, follower, times = _seed(server)
    start, end = _typed(times[0] - dt.timedelta(minutes=10)), _typed(times[-1] + dt.timedelta(minutes=10))
    login(page, "analyst")
    if ui_lang == "en":
        page.click("#lang-switch")
    page.goto(f"{server.url}/ui/#/analyst")
    page.wait_for_selector("body[data-map-ready='1']")
    dicts = page.evaluate("window.__precinctI18n")
    words, other = dicts[ui_lang], dicts["en" if ui_lang == "zh-CN" else "zh-CN"]
    km = "千米" if ui_lang == "zh-CN" else "km"

    # 1. Vehicle–case association around the scene.
    page.click("#query-tabs button[data-kind=associate]")
    _fill(page, {"lat": str(SCENE[0]), "lon": str(SCENE[1]), "radius_km": str(SCENE[2]), "start": start, "end": end})
    _run(page)
    if page.query_selector("#case-id"):
        page.fill("#case-id", server.open_case("analyst", f"AN21 {ui_lang}", "theft"))
        page.click("#case-ok")
    page.wait_for_selector("#query-count, #query-error")
    assert page.query_selector("#query-error") is None, page.inner_text("#query-error")
    page.wait_for_function("(p) => [...document.querySelectorAll('#query-table td[data-col=plate]')]"
                           ".some(td => td.textContent === p)", arg=target)
    _assert_readable(page, words)
    heads = _heads(page)
    assert km in heads["min_distance_km"], heads
    assert {"first_seen", "last_seen", "reads", "score", "components"} <= set(heads), heads
    row = _row_of(page, target)
    assert row["first_seen"] == _local(times[0]) and row["last_seen"] == _local(times[-1]), row
    assert re.fullmatch(r"\d\.\d{2}", row["min_distance_km"]), row  # km rounded to two decimals
    assert row["reads"] == str(len(CAMS))
    assert _row_of(page, follower)["first_seen"] == _local(times[0] + dt.timedelta(seconds=20))
    assert words["an.c.rarity"] in row["components"]  # the score's parts as words, not JSON
    scenes = _features(page, "search", "scene")
    assert len(scenes) == 1 and scenes[0]["radius_km"] == SCENE[2], scenes
    assert abs(scenes[0]["lat"] - SCENE[0]) < 1e-9
    # every vehicle in the table on the map, by rank, where it came closest (both at the third camera)
    vehicles = _features(page, "results", "vehicle")
    assert [v["rank"] for v in vehicles] == list(range(1, len(_column(page, "plate")) + 1))
    mine = {v["plate"]: v for v in vehicles if v["plate"] in (target, follower)}
    assert set(mine) == {target, follower}
    assert all((v["lat"], v["lon"]) == pytest.approx(CAMS[2][1:]) for v in mine.values()), mine

    # 2. The target's trajectory: the reads in time order, a line from start to end.
    page.click("#query-tabs button[data-kind=trajectory]")
    assert _features(page, "search") == []  # the association's area left with its tab
    _fill(page, {"plate": target, "start": start, "end": end})
    _run(page)
    page.wait_for_selector("#query-count")
    _assert_readable(page, words)
    assert _column(page, "ts") == [_local(t) for t in times]
    assert _column(page, "camera_id") == [c[0] for c in CAMS]
    assert km in _heads(page)["road_km_next"]
    reads = _features(page, "results", "read")
    assert [r["seq"] for r in reads] == list(range(1, len(CAMS) + 1))
    assert [r["camera_id"] for r in reads] == [c[0] for c in CAMS]
    assert len(_features(page, "results", "track")) == 1
    assert len(_features(page, "results", "start")) == 1 and len(_features(page, "results", "end")) == 1
    assert _features(page, "search") == []

    # 3. A tab switch and back: the trajectory again, without asking the server.
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/anpr/" in r.url else None)
    page.click("#nav a[data-view=orders]")
    page.wait_for_selector("#nav a[data-view=orders].active")
    assert _features(page, "results") == []  # the layers leave the map with the screen
    page.click("#nav a[data-view=analyst]")
    page.wait_for_selector("#query-table")
    assert page.get_attribute("#query-tabs button.active", "data-kind") == "trajectory"
    assert _column(page, "ts") == [_local(t) for t in times]
    assert len(_features(page, "results", "read")) == len(CAMS)

    # 4. A language switch: the same rows, the headers in the other language, still on the map.
    page.click("#lang-switch")
    page.wait_for_selector("#query-table")
    _assert_readable(page, other)
    assert _column(page, "ts") == [_local(t) for t in times]
    assert len(_features(page, "results", "read")) == len(CAMS)
    # and the association kept under its tab, its area drawn again
    page.click("#query-tabs button[data-kind=associate]")
    page.wait_for_selector("#query-table")
    _assert_readable(page, other)
    assert _row_of(page, target)["first_seen"] == _local(times[0])
    assert len(_features(page, "search", "scene")) == 1
    assert _features(page, "results", "read") == []
    assert page.input_value("#q-radius_km") == str(SCENE[2])  # each tab keeps what was typed in it
    assert asked == [], f"the kept results were asked for again: {asked}"

    # 5. A plate in the association's table followed to its trajectory in the same window.
    page.click(f"#query-table button.follow-plate[data-plate='{follower}']")
    page.wait_for_function("(p) => document.querySelector('#query-tabs button.active')?.dataset.kind === 'trajectory'"
                           " && document.querySelector('#q-plate')?.value === p"
                           " && document.querySelectorAll('#query-table td[data-col=ts]').length > 0", arg=follower)
    follower_times = [_local(t + dt.timedelta(seconds=20)) for t in times]
    page.wait_for_function("(n) => document.querySelector('#query-table td[data-col=ts]')?.textContent === n",
                           arg=follower_times[0])
    assert _column(page, "ts") == follower_times
    assert {r["plate"] for r in _features(page, "results", "read")} == {follower}

    # 6. Its reads offered for pinning to the case: the pin tab filled, run by the analyst.
    if "/anpr/case-reads" in server.paths():
        page.click("#pin-reads")
        assert page.get_attribute("#query-tabs button.active", "data-kind") == "pin"
        assert len(re.findall(r"\d+", page.input_value("#q-rids"))) == len(CAMS)
        page.click("#query-run")
        page.wait_for_selector("#query-message, #query-error")
        assert page.inner_text("#query-message") == other["an.pinned"].replace("{n}", str(len(CAMS)))
    page.click("#lang-switch")  # back to the language this run started in


def test_cloned_plate_journeys_read_as_words_and_drawn_by_vehicle(shanghai_page: Any, server: Server,
                                                                  login: Login) -> None:
    """One plate read 45 km apart five minutes later: the impossible journey as a sentence (local
    times, km, km/h), both reads on the map in the vehicle's colour with the jump between them."""
    if "/anpr/cloned" not in server.paths():
        pytest.skip("no cloned-plate route on this server")
    page = shanghai_page
    plate = f"苏G{int(time.time() * 1000) % 100_000:05d}"
    a = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)).replace(microsecond=250000)
    b = a + dt.timedelta(minutes=5)
    with server.api("admin") as c:
        r = c.post("/anpr/reads", json=[
            {"plate": plate, "ts": a.isoformat(), "lat": 32.48, "lon": 119.91, "camera_id": "AN21-CLONE-A"},
            {"plate": plate, "ts": b.isoformat(), "lat": 32.88, "lon": 119.99, "camera_id": "AN21-CLONE-B"}])
        assert r.status_code == 200, r.text
    login(page, "analyst")
    page.goto(f"{server.url}/ui/#/analyst")
    page.wait_for_selector("body[data-map-ready='1']")
    words = page.evaluate("window.__precinctI18n")["zh-CN"]
    page.click("#query-tabs button[data-kind=cloned]")
    window = {"start": _typed(a - dt.timedelta(minutes=10)), "end": _typed(b + dt.timedelta(minutes=10))}
    _fill(page, {"plate": plate, **window})
    _run(page)
    if page.query_selector("#case-id"):
        page.fill("#case-id", server.open_case("analyst", "AN21 套牌", "theft"))
        page.click("#case-ok")
    page.wait_for_selector("#query-count, #query-error")
    assert page.query_selector("#query-error") is None, page.inner_text("#query-error")
    _assert_readable(page, words)
    row = _row_of(page, plate)
    assert row["impossible_pairs"] == "1", row
    journey = row["pairs"]
    assert _local(a) in journey and _local(b) in journey, journey
    assert "千米/时" in journey and "AN21-CLONE-B" in journey, journey
    reads = _features(page, "results", "read")
    assert sorted(r["camera_id"] for r in reads) == ["AN21-CLONE-A", "AN21-CLONE-B"]
    assert {r["plate"] for r in reads} == {plate}
    assert len(_features(page, "results", "jump")) == 1
    assert _features(page, "search") == []  # no area was searched


def _scene_row(page: Any, i: int, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"#scene-rows .scene-row[data-scene='{i}'] [data-field={name}]", value)


@pytest.mark.parametrize("ui_lang", ["zh-CN", "en"])
def test_series_and_convoy_drawn_by_vehicle(shanghai_page: Any, server: Server, login: Login, ui_lang: str) -> None:
    """A series' scenes entered as rows (typed, one picked on the map, a row added and removed, kept
    across a tab switch), not JSON; each matching vehicle drawn at each scene where it came closest,
    in its rank's colour; a convoy's vehicles drawn at the cameras where each was read with the target."""
    paths = server.paths()
    if not {"/anpr/series", "/anpr/convoy/{plate}"} <= paths:
        pytest.skip("no series or convoy route on this server")
    page = shanghai_page
    target, follower, times = _seed(server)
    login(page, "analyst")
    if ui_lang == "en":
        page.click("#lang-switch")
    page.goto(f"{server.url}/ui/#/analyst")
    page.wait_for_selector("body[data-map-ready='1']")
    words = page.evaluate("window.__precinctI18n")[ui_lang]

    # 1. Series: two scenes, at the first and the last camera, each in its own window.
    page.click("#query-tabs button[data-kind=series]")
    page.wait_for_selector("#scene-rows .scene-row[data-scene='1']")
    assert page.is_hidden("#q-cases")  # no JSON to type
    assert page.inner_text(".scene-editor > .label") == words["p.cases"]
    assert page.inner_text("#scene-add") == words["an.sceneAdd"]
    first, last = CAMS[0], CAMS[-1]
    win = lambda ts: {"start": _typed(ts - dt.timedelta(minutes=5)), "end": _typed(ts + dt.timedelta(minutes=5))}  # noqa: E731
    _scene_row(page, 0, {"case_id": "东门", "lat": str(first[1]), "lon": str(first[2]), "radius_km": "0.3",
                         **win(times[0])})
    _scene_row(page, 1, {"case_id": "西街", "radius_km": "0.3", **win(times[-1])})
    page.click("#scene-rows .scene-row[data-scene='1'] button.scene-pick")  # the place picked on the map
    page.evaluate("([la, lo]) => window.__precinctMap.map.fire('click', { latlng: { lat: la, lng: lo } })",
                  [last[1], last[2]])
    assert page.input_value("#scene-rows .scene-row[data-scene='1'] [data-field=lat]") == f"{last[1]:.6f}"
    page.click("#scene-add")
    page.wait_for_selector("#scene-rows .scene-row[data-scene='2']")
    page.click("#scene-rows .scene-row[data-scene='2'] button.scene-remove")
    assert page.locator("#scene-rows .scene-row").count() == 2
    page.fill("#q-min_cases", "2")
    # the rows survive a tab switch
    page.click("#query-tabs button[data-kind=convoy]")
    page.click("#query-tabs button[data-kind=series]")
    assert page.input_value("#scene-rows .scene-row[data-scene='1'] [data-field=case_id]") == "西街"
    assert page.input_value("#scene-rows .scene-row[data-scene='1'] [data-field=lon]") == f"{last[2]:.6f}"
    _run(page)
    if page.query_selector("#case-id"):
        page.fill("#case-id", server.open_case("analyst", f"AN21 series {ui_lang}", "theft"))
        page.click("#case-ok")
    page.wait_for_selector("#query-count, #query-error")
    assert page.query_selector("#query-error") is None, page.inner_text("#query-error")
    _assert_readable(page, words)
    plates = _column(page, "plate")
    assert {target, follower} <= set(plates), plates
    assert _row_of(page, target)["n_cases"] == "2"
    scenes = _features(page, "search", "scene")
    assert sorted(s["label"].split()[-1] for s in scenes) == ["东门", "西街"]
    drawn = [v for v in _features(page, "results", "vehicle") if v["plate"] in (target, follower)]
    assert len(drawn) == 4, drawn
    for v in drawn:
        assert v["rank"] == plates.index(v["plate"]) + 1  # the table's rank, hence its colour
        cam = first if v["case_id"] == "东门" else last
        assert (v["lat"], v["lon"]) == pytest.approx(cam[1:]), v
    colours = page.evaluate("""(ps) => window.__precinctMap.geoLayer('results').getLayers()
        .filter(l => l.feature && ps.includes(l.feature.properties.plate))
        .map(l => [l.feature.properties.plate, l.options.fillColor])""", [target, follower])
    by_plate: dict[str, set[str]] = {}
    for p, c in colours:
        by_plate.setdefault(p, set()).add(c)
    assert all(len(c) == 1 for c in by_plate.values()) and by_plate[target] != by_plate[follower], by_plate

    # 2. Convoy: the follower at each of the five cameras, where it was read with the target.
    page.click("#query-tabs button[data-kind=convoy]")
    assert _features(page, "results") == []
    _fill(page, {"plate": target, "start": _typed(times[0] - dt.timedelta(minutes=10)),
                 "end": _typed(times[-1] + dt.timedelta(minutes=10))})
    _run(page)
    page.wait_for_selector("#query-count")
    _assert_readable(page, words)
    assert _row_of(page, follower)["cameras"] == str(len(CAMS))
    together = [f for f in _features(page, "results", "together") if f["plate"] == follower]
    assert [f["camera_id"] for f in together] == [c[0] for c in CAMS]
    assert all((f["lat"], f["lon"]) == pytest.approx(c[1:]) and f["co_reads"] == 1
               for f, c in zip(together, CAMS, strict=True)), together
    assert {f["rank"] for f in together} == {_column(page, "plate").index(follower) + 1}
    assert not [f for f in _features(page, "results", "together") if f["plate"] == target]
    assert _features(page, "search") == []
