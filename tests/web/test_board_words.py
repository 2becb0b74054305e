"""Issue 21, the dispatcher's list checked on the running board (zh-CN and en): what was still shown
as raw data.

- A hotlist hit's popup on the map says the plate, the local time of the read, the camera's name and
  id, the hotlist and its reason, and whether it is acknowledged, in the reader's language (it listed
  the row's raw fields: ``alert_id: 35``, ``list: offenders``, ``lat: ...``).
- The call-back line in the incident panel shows the masked numbers the server sends, and is absent
  when the call came without a number (it said "回拨号码:" and nothing).
- A dispatched unit's acknowledgement badge names the unit by its callsign, not its id.
Known answers: the API's own records (alert, incident callers) and the page's dictionaries."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

AT = (32.4391, 119.8702)  # a place of this test's own


def _open(browser: Any, server: Server, lang: str) -> tuple[Any, Any, list[str]]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    user, password = server.logins["dispatcher"]
    pg.goto(f"{server.url}/ui/")
    if lang == "en":
        pg.click("#lang-switch")
    pg.fill("#login-username", user)
    pg.fill("#login-password", password)
    pg.click("#login-submit")
    pg.wait_for_selector("#whoami")
    pg.goto(f"{server.url}/ui/#/board")
    pg.wait_for_selector("#board-alerts")
    pg.wait_for_function("() => document.body.dataset.live === 'live'")
    return ctx, pg, errors


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_hotlist_hit_popup_is_in_words(browser: Any, server: Server, lang: str) -> None:
    plate = f"苏H{uuid.uuid4().int % 100000:05d}"
    cam = f"CAM-PU-{uuid.uuid4().hex[:4]}"
    with server.api("admin") as c:
        r = c.put("/anpr/cameras", json=[{"camera_id": cam, "name": "凤凰东路卡口", "lat": AT[0], "lon": AT[1]}])
        assert r.status_code == 200, r.text
    with server.api("analyst") as c:
        r = c.post("/anpr/hotlist", json={"entries": [{"plate": plate, "reason": "涉嫌肇事逃逸", "list": "wanted"}]})
        assert r.status_code == 201, r.text
    ctx, pg, errors = _open(browser, server, lang)
    try:
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)
        read_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with server.api("admin") as c:
            r = c.post("/anpr/reads", json=[{"plate": plate, "ts": read_at.isoformat().replace("+00:00", "Z"),
                                             "lat": AT[0], "lon": AT[1], "camera_id": cam}])
            assert r.status_code == 200 and r.json()["alerts"] == 1, r.text
        row = pg.locator("#board-alert-list li.alert-row", has_text=plate)
        row.wait_for()
        alert_id = row.get_attribute("data-alert")
        pg.wait_for_function("(id) => (window.__precinctMap?.sets.get('alerts')?.rows ?? [])"
                             ".some(r => String(r.alert_id) === id)", arg=alert_id)
        point = pg.evaluate(
            "(ll) => { const m = window.__precinctMap.map; m.setView(ll, 19, {animate: false});"
            " const r = m.getContainer().getBoundingClientRect();"
            " const p = m.latLngToContainerPoint(ll); return [r.left + p.x, r.top + p.y]; }", list(AT))
        pg.mouse.click(point[0], point[1])
        popup = pg.locator(f".leaflet-popup-content .alert-popup[data-alert='{alert_id}']")
        popup.wait_for()
        text = popup.inner_text()
        assert plate in text
        assert read_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S") in text
        assert "凤凰东路卡口" in text and cam in text
        assert text.startswith(f"{words['alerts.one']} {plate}")
        assert f"{words['alerts.cameraLabel']}: 凤凰东路卡口 ({cam})" in text
        assert words["hotlist.wanted"] in text and "涉嫌肇事逃逸" in text
        assert words["alerts.notAcked"] in text and popup.get_attribute("data-acked") == "false"
        for raw in ("alert_id", "hotlist_id", "lat:", "{", "wanted"):
            assert raw not in text.replace(words["hotlist.wanted"], ""), (raw, text)
        if lang == "zh-CN":
            assert not re.search(r"[A-Za-z]{3,}", text.replace(cam, "")), text
        # the same row in the list says the reason once, after the hotlist's name
        assert row.locator(".alert-reason").inner_text().count("涉嫌肇事逃逸") == 1
    finally:
        ctx.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_callback_numbers_and_callsigns_in_the_panel(browser: Any, server: Server, lang: str) -> None:
    unit = f"CS-{uuid.uuid4().hex[:5]}"
    callsign = f"巡{unit[-3:]}"
    with server.api("dispatcher") as c:
        r = c.post("/units", json={"id": unit, "unit_type": "patrol", "callsign": callsign,
                                   "lat": 32.4411, "lon": 119.8731})
        assert r.status_code == 201, r.text
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": 32.4415, "lon": 119.8735, "type": "theft", "description": "无号码来电"})
        assert r.status_code == 201, r.text
        bare = r.json()["incident_id"]
        r = c.post("/calls", json={"lat": 32.4421, "lon": 119.8742, "type": "fight", "caller_phone": "13912347788",
                                   "description": "有号码来电"})
        assert r.status_code == 201, r.text
        called = r.json()["incident_id"]
    with server.api("dispatcher") as c:
        masked = [x for x in c.get(f"/incidents/{called}").json()["callers"] if x]
        assert masked and "13912347788" not in masked, masked
        assert not [x for x in c.get(f"/incidents/{bare}").json().get("callers", []) if x]
        r = c.post(f"/incidents/{called}/dispatch", json={"unit_ids": [unit]})
        assert r.status_code in (200, 201), r.text
    ctx, pg, errors = _open(browser, server, lang)
    try:
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)
        pg.goto(f"{server.url}/ui/#/board?incident={bare}")
        pg.wait_for_selector(f"#board-detail[data-id='{bare}'] #incident-timeline")
        assert pg.query_selector("#detail-callers") is None
        assert words["board.callback"] not in pg.inner_text("#board-detail")
        pg.goto(f"{server.url}/ui/#/board?incident={called}")
        pg.wait_for_selector(f"#board-detail[data-id='{called}'] #detail-callers")
        line = pg.inner_text("#detail-callers")
        assert line.startswith(words["board.callback"]) and masked[0] in line
        badge = pg.locator(f"#board-acks [data-unit='{unit}']")
        badge.wait_for()
        assert badge.inner_text().startswith(callsign) and unit not in badge.inner_text()
        # the panel names one incident; the response level is in the reader's language
        assert pg.inner_text("#board-detail h3") == f"{words['board.incident']} {called}"
        with server.api("dispatcher") as c:
            level = c.get(f"/incidents/{called}/recommendations").json()["response_level"]
        plan = pg.locator("#response-plan")
        plan.wait_for()
        said = plan.locator("p").first.inner_text()
        assert words[f"resp.level.{level}"] in said
        if lang == "en":
            assert not re.search(r"[\u4e00-\u9fff]", said), said
    finally:
        ctx.close()
        with server.api("dispatcher") as c:
            c.post(f"/incidents/{called}/clear", json={"unit_id": unit})
    assert not errors, errors
