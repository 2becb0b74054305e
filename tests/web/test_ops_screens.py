"""End-to-end: checkpoints for a fleeing suspect, the missing-person search area, isochrones on the
map and paging through every open incident, in headless Chromium against a real Precinct server.

As in test_dashboard, each test drives the UI and then checks the server's state through the API.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.web.conftest import shot
from tests.web.server import Server
from tests.web.test_dashboard import Login, make_units, new_incident

pytestmark = pytest.mark.browser

CENTRE = (32.4905, 119.9205)


def _need(server: Server, *paths: str) -> None:
    missing = [p for p in paths if p not in server.paths()]
    if missing:
        pytest.skip(f"not on this server yet: {missing}")


def _map_ready(page: Any) -> None:
    page.wait_for_selector("body[data-map-ready='1']")


def _geo_features(page: Any, key: str, kind: str | None = None) -> list[dict[str, Any]]:
    return list(page.evaluate(
        """([key, kind]) => { const g = window.__precinctMap.geoLayer(key); if (!g) return [];
             return g.getLayers().filter(l => l.feature && (!kind || l.feature.properties.kind === kind))
                     .map(l => l.feature.properties); }""", [key, kind]))


def test_dispatcher_plans_checkpoints_and_issues_them_as_orders(page: Any, server: Server, login: Login) -> None:
    _need(server, "/patrol/checkpoints", "/orders")
    make_units(server)
    incident = new_incident(server, 32.4930, 119.9230, "robbery")
    login(page, "dispatcher")
    page.goto(f"{server.url}/ui/#/pursuit")
    _map_ready(page)
    page.wait_for_selector(f"#pursuit-incident option[value='{incident}']", state="attached")
    page.select_option("#pursuit-incident", incident)
    assert abs(float(page.input_value("#pursuit-lat")) - 32.4930) < 1e-6  # the sighting is the incident's place
    page.fill("#pursuit-ago", "2")
    page.fill("#pursuit-k", "3")
    page.click("#pursuit-plan")
    page.wait_for_selector("#checkpoint-table, #pursuit-error", timeout=60_000)
    assert page.query_selector("#pursuit-error") is None, page.inner_text("#pursuit-error")
    planned = page.eval_on_selector_all("#checkpoint-table td[data-col=unit_id] [data-unit]",
                                        "els => els.map(e => e.dataset.unit)")
    assert 1 <= len(planned) <= 3
    # The map shows the sighting and one marker per checkpoint, each naming the unit that staffs it.
    assert len(_geo_features(page, "checkpoints", "last_seen")) == 1
    assert sorted(f["unit_id"] for f in _geo_features(page, "checkpoints", "checkpoint")) == sorted(planned)
    shot(page, "checkpoints")
    # One click issues them: one order per checkpoint, to the unit shown, bound to the incident.
    page.click("#pursuit-issue")
    page.wait_for_selector("#pursuit-issued", timeout=60_000)
    issued_units = page.eval_on_selector_all("#checkpoint-table td[data-col=unit_id] [data-unit]",
                                             "els => els.map(e => e.dataset.unit)")
    ids = page.get_attribute("#pursuit-issued", "data-orders").split(",")
    assert len(ids) == len(issued_units) >= 1
    with server.api("dispatcher") as c:
        orders = [c.get(f"/orders/{i}").json() for i in ids]
    assert sorted(r["recipient"] for o in orders for r in o["recipients"]) == sorted(f"unit:{u}" for u in issued_units)
    assert all("设卡盘查" in o["title"] and o.get("incident_id") == incident for o in orders)


def _places_csv() -> bytes:
    lat, lon = CENTRE
    rows = ["id,name,kind,lat,lon",
            f"CAM-NEAR,东门,camera,{lat + 0.0015},{lon + 0.0010}",
            f"CAM-MID,人民路,camera,{lat + 0.0060},{lon - 0.0050}",
            f"CAM-FAR,北环,camera,{lat + 0.0150},{lon + 0.0120}",
            f"PS-1,城区派出所,station,{lat - 0.0030},{lon + 0.0020}",
            f"H-1,人民医院,hospital,{lat + 0.0040},{lon + 0.0060}",
            f"SH-1,\"救助站, 西\",shelter,{lat - 0.0070},{lon - 0.0040}"]
    return ("\n".join(rows) + "\n").encode()


def test_missing_person_search_area_is_case_bound_and_ranks_cameras(page: Any, server: Server,
                                                                     login: Login) -> None:
    _need(server, "/patrol/missing-person")
    login(page, "patrol")
    page.goto(f"{server.url}/ui/#/missing")
    _map_ready(page)
    # A bad places file is refused, naming the line; nothing of it is kept.
    bad = b"id,name,kind,lat,lon\nA,a,camera,32.49,119.92\nB,b,camera,north,119.9\n"
    page.set_input_files("#missing-places", files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}])
    page.wait_for_selector("#missing-error")
    assert "3" in page.inner_text("#missing-error") and "north" in page.inner_text("#missing-error")
    assert page.evaluate("localStorage.getItem('precinct.places')") is None
    page.set_input_files("#missing-places", files=[{"name": "places.csv", "mimeType": "text/csv",
                                                     "buffer": _places_csv()}])
    # The file's six places join the server's registered cameras (another test may have added one).
    with server.api("patrol") as c:
        registered = {x["camera_id"]: x for x in c.get("/anpr/cameras").json()["cameras"]
                      if isinstance(x.get("lat"), float | int)
                      and x["camera_id"] not in {"CAM-NEAR", "CAM-MID", "CAM-FAR"}}
    total = 6 + len(registered)
    page.wait_for_function(
        "n => (document.querySelector('#missing-places-status').textContent.match(/[0-9]+/) || [])[0] === String(n)",
        arg=total)
    page.fill("#missing-lat", str(CENTRE[0]))
    page.fill("#missing-lon", str(CENTRE[1]))
    page.fill("#missing-ago", "20")
    page.fill("#missing-step", "10")
    page.fill("#missing-ahead", "20")
    page.click("#missing-run")
    page.wait_for_selector("#case-id")  # personal data: a case and the purpose come first
    assert page.eval_on_selector("#case-purpose", "el => el.value") == "missing_person"
    page.fill("#case-id", mp := server.open_case("patrol", "失踪人员 E2E", "missing_person"))
    page.click("#case-ok")
    page.wait_for_selector("#missing-cameras, #missing-error", timeout=60_000)
    assert page.query_selector("#missing-error") is None, page.inner_text("#missing-error")
    cams = page.eval_on_selector_all("#missing-cameras td[data-col=id]", "els => els.map(e => e.textContent)")
    nearby = page.eval_on_selector_all("#missing-nearby td[data-col=id]", "els => els.map(e => e.textContent)")
    # The same question through the API (same case, same purpose): the UI shows its ranking.
    with server.api("patrol") as c:
        r = c.post("/patrol/missing-person", headers={"X-Case-Id": mp, "X-Purpose": "missing_person"},
                   json={"lat": CENTRE[0], "lon": CENTRE[1], "seen_at": "2026-01-01T10:00:00+00:00",
                         "now": "2026-01-01T10:20:00+00:00", "step_min": 10, "ahead_min": 20,
                         "places": [dict(zip(("id", "name", "kind", "lat", "lon"), _row(line), strict=True))
                                    for line in _places_csv().decode().splitlines()[1:]]
                         + [{"id": k, "name": str(x.get("name") or ""), "kind": "camera",
                             "lat": x["lat"], "lon": x["lon"]}
                            for k, x in registered.items()]})
        assert r.status_code == 200, r.text
        api = r.json()
    assert cams == [p["id"] for p in api["cameras"]] and cams[0] == "CAM-NEAR"
    walk = [p["walk_s"] for p in api["cameras"]]
    assert walk == sorted(walk)
    assert nearby == [p["id"] for p in api["places"]] and set(nearby) <= {"PS-1", "H-1", "SH-1"}
    # Rings grow with time: all of them drawn; the slider at the first shows one.
    rings = _geo_features(page, "search", "reach")
    assert len(rings) == len(api["rings"]) >= 3
    assert [f["minutes"] for f in rings] == sorted(f["minutes"] for f in rings)
    shot(page, "missing-person")
    page.eval_on_selector("#missing-slider", "el => { el.value = 0; el.dispatchEvent(new Event('input')); }")
    assert len(_geo_features(page, "search", "reach")) == 1
    # The read was audited against the case entered in the prompt.
    with server.api("auditor") as c:
        recs = c.get("/audit/records", params={"actor": "patrol1", "limit": 10},
                     headers=server.review_headers()).json()["records"]
    assert any(x["case_id"] == mp and x["resource"] == "patrol.missing_person" for x in recs)


def _row(line: str) -> list[Any]:
    import csv

    (vals,) = list(csv.reader([line]))
    return [vals[0], vals[1], vals[2], float(vals[3]), float(vals[4])]


def test_isochrone_bands_drawn_from_a_picked_point(page: Any, server: Server, login: Login) -> None:
    _need(server, "/map/isochrone")
    login(page, "analyst")
    page.goto(f"{server.url}/ui/#/map")
    _map_ready(page)
    # A bad budget is refused in the form, naming the limit.
    page.fill("#reach-lat", str(CENTRE[0]))
    page.fill("#reach-lon", str(CENTRE[1]))
    page.fill("#reach-minutes", "0, 5")
    page.click("#reach-run")
    page.wait_for_selector("#reach-error")
    # Pick the point on the map: the click fills the form.
    page.fill("#reach-lat", "")
    page.click("#reach-pick")
    box = page.query_selector("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lat, lon = float(page.input_value("#reach-lat")), float(page.input_value("#reach-lon"))
    page.fill("#reach-minutes", "2, 4")
    page.click("#reach-run")
    page.wait_for_selector("#reach-table tbody tr:nth-child(2)", timeout=60_000)
    areas = [float(x) for x in page.eval_on_selector_all("#reach-table td[data-col=area_km2]",
                                                          "els => els.map(e => e.textContent)")]
    # The band column is headed by what it holds (the time), not by the travel mode.
    heads = page.eval_on_selector_all("#reach-table th", "els => els.map(e => e.textContent)")
    assert heads[0] == page.evaluate("() => window.__precinctI18n['zh-CN']['reach.colMinutes']"), heads
    bands = _geo_features(page, "isochrones", "isochrone")
    assert sorted(b["minutes"] for b in bands) == [2, 4]
    with server.api("analyst") as c:
        r = c.get("/map/isochrone", params={"lat": lat, "lon": lon, "seconds": [120, 240]})
        assert r.status_code == 200, r.text
    expected = sorted(f["properties"]["area_km2"] for f in r.json()["features"])
    assert areas == [round(a, 2) for a in expected] and areas[0] < areas[1]
    shot(page, "isochrones")


def test_map_pages_through_every_open_incident(browser: Any, server: Server, login: Login) -> None:
    """With a page size of 2 the dashboard follows next_cursor to the end (5,000 incidents at the
    default page size are the paint benchmark's)."""
    for i in range(5):
        new_incident(server, 32.48 + i * 0.002, 119.91, "theft")
    with server.api("supervisor") as c:
        params: dict[str, Any] = {"open": "true", "limit": 500}
        ids: list[str] = []
        while True:
            body = c.get("/incidents", params=params).json()
            # a cleared incident (units gone, awaiting close) is on the board, not on the map
            ids += [r["id"] for r in body["incidents"] if r["status"] != "cleared"]
            if not body.get("next_cursor"):
                break
            params["cursor"] = body["next_cursor"]
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.add_init_script("localStorage.setItem('precinct.pageSize', '2');")
    pg = ctx.new_page()
    try:
        login(pg, "supervisor")
        pg.goto(f"{server.url}/ui/#/map")
        _map_ready(pg)
        shown = pg.evaluate("window.__precinctMap.sets.get('incidents').rows.map(r => r.id)")
        assert len(ids) > 2 and set(ids) <= set(shown)
    finally:
        ctx.close()


def test_new_screens_speak_both_languages(page: Any, server: Server, login: Login) -> None:
    login(page, "supervisor")
    dicts = page.evaluate("window.__precinctI18n")
    zh, en = dicts["zh-CN"], dicts["en"]
    assert set(zh) == set(en), f"keys in one language only: {set(zh) ^ set(en)}"
    new = [k for k in en if k.split(".")[0] in {"pursuit", "missing", "reach", "place"}
           or k in {"nav.pursuit", "nav.missing", "map.checkpoints", "map.search"}]
    assert len(new) > 50
    for k in new:
        assert re.search(r"[\u4e00-\u9fff]", zh[k]), f"{k}: no Chinese in {zh[k]!r}"
        assert not re.search(r"[\u4e00-\u9fff]", en[k]), f"{k}: Chinese in the English {en[k]!r}"
    page.goto(f"{server.url}/ui/#/pursuit")
    page.wait_for_selector("#pursuit-plan")
    assert page.inner_text("#pursuit-plan") == zh["pursuit.plan"]
    assert page.inner_text("#nav a[data-view=missing]") == zh["nav.missing"]
    page.click("#lang-switch")
    page.wait_for_selector("#pursuit-plan")
    assert page.inner_text("#pursuit-plan") == en["pursuit.plan"]
    page.goto(f"{server.url}/ui/#/missing")
    page.wait_for_selector("#missing-run")
    assert page.inner_text("#missing-run") == en["missing.run"]
    page.click("#lang-switch")
    assert page.inner_text("#missing-run") == zh["missing.run"]
