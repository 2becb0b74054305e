"""Issue 21: time in status on the dispatcher's board. Each unit's row says how long it has been in
its status ("已 12 分钟" / "for 12 min"), from the server's ``status_since``, and the text moves on
with the clock (the page's clock is set and advanced by the test: no waiting, no timing)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_unit_row_says_how_long_in_status(browser: Any, server: Server, lang: str) -> None:
    unit = f"TS-{uuid.uuid4().hex[:5]}"
    with server.api("dispatcher") as c:
        r = c.post("/units", json={"id": unit, "unit_type": "patrol", "callsign": f"巡{unit[-3:]}",
                                   "lat": 32.47, "lon": 119.9})
        assert r.status_code == 201, r.text
        r = c.post(f"/units/{unit}/status", json={"status": "out_of_service"})
        assert r.status_code == 200, r.text
        since = r.json()["status_since"]
    assert since, r.json()
    at = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.clock.install(time=at + dt.timedelta(minutes=12, seconds=5))  # the page's clock: 12 min later
        user, password = server.logins["dispatcher"]
        pg.goto(f"{server.url}/ui/")
        if lang == "en":
            pg.click("#lang-switch")
        pg.fill("#login-username", user)
        pg.fill("#login-password", password)
        pg.click("#login-submit")
        pg.wait_for_selector("#whoami")
        pg.goto(f"{server.url}/ui/#/board")
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)
        cell = pg.locator("#unit-table tr", has_text=f"巡{unit[-3:]}").locator(".unit-since")
        cell.wait_for()
        assert cell.get_attribute("data-since") == since
        # the minutes by the page's clock (12, or more if the page took a while to load)
        minutes = pg.evaluate("(s) => Math.floor((Date.now() - Date.parse(s)) / 60000)", since)
        assert 12 <= minutes < 60
        text = cell.inner_text()
        assert text in (words["units.sinceMin"].replace("{m}", str(minutes)),
                        words["units.sinceMin"].replace("{m}", str(minutes - 1))), text
        header = pg.locator("#unit-table th", has_text=words["units.since"])
        assert header.count() == 1
        pg.clock.run_for("01:00:00")  # an hour later, without a new event: the text follows the clock
        # known answer: 1 h and the minutes past it by the page's clock and the server's status_since
        pg.wait_for_function(
            "([sel, since, tpl]) => { const m = Math.floor((Date.now() - Date.parse(since)) / 60000);"
            " const want = tpl.replace('{h}', String(Math.floor(m / 60))).replace('{m}', String(m % 60));"
            " return m >= 72 && document.querySelector(sel)?.textContent === want; }",
            arg=[f"#unit-table .unit-since[data-since='{since}']", since, words["units.sinceHours"]])
        assert re.search(r"\b1\b", cell.inner_text()) or "1 小时" in cell.inner_text()
        if lang == "zh-CN":
            assert not re.search(r"[A-Za-z]", cell.inner_text())
    finally:
        ctx.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_side_panel_says_how_long_each_assigned_unit_is_in_its_status(browser: Any, server: Server,
                                                                      lang: str) -> None:
    """The incident in the board's side panel: each unit sent to it shows its status and for how long
    (the units table's words), from the server's ``status_since``; the text follows the page's
    clock, and a step restarts it from the unit's new ``status_since``."""
    unit = f"TP-{uuid.uuid4().hex[:5]}"
    with server.api("dispatcher") as c:
        r = c.post("/units", json={"id": unit, "unit_type": "patrol", "callsign": f"巡{unit[-3:]}",
                                   "lat": 32.4861, "lon": 119.9312})
        assert r.status_code == 201, r.text
        r = c.post("/calls", json={"lat": 32.4866, "lon": 119.9318, "type": "theft", "description": "在途计时"})
        assert r.status_code == 201, r.text
        incident = r.json()["incident_id"]
        r = c.post(f"/incidents/{incident}/dispatch", json={"unit_ids": [unit]})
        assert r.status_code in (200, 201), r.text
        since = c.get(f"/units/{unit}").json()["status_since"]
        assert c.get(f"/units/{unit}").json()["status"] == "dispatched"
    at = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    minutes_js = "(s) => Math.floor((Date.now() - Date.parse(s)) / 60000)"
    try:
        pg.clock.install(time=at + dt.timedelta(minutes=7, seconds=5))  # the page's clock: 7 min later
        user, password = server.logins["dispatcher"]
        pg.goto(f"{server.url}/ui/")
        if lang == "en":
            pg.click("#lang-switch")
        pg.fill("#login-username", user)
        pg.fill("#login-password", password)
        pg.click("#login-submit")
        pg.wait_for_selector("#whoami")
        pg.goto(f"{server.url}/ui/#/board?incident={incident}")
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)
        row = pg.locator(f"#assigned-units tr[data-unit='{unit}']")
        cell = row.locator("td[data-col=since] .unit-since")
        cell.wait_for()
        assert row.get_attribute("data-status") == "dispatched"
        assert row.locator("td[data-col=status]").inner_text() == words["status.dispatched"]
        assert cell.get_attribute("data-since") == since
        assert pg.locator("#assigned-units th", has_text=words["units.since"]).count() == 1
        minutes = pg.evaluate(minutes_js, since)
        assert 7 <= minutes < 60
        assert cell.inner_text() in (words["units.sinceMin"].replace("{m}", str(minutes)),
                                     words["units.sinceMin"].replace("{m}", str(minutes - 1)))
        pg.clock.run_for("00:05:00")  # five minutes on, no event: the panel's text follows the clock
        pg.wait_for_function(
            "([sel, since, tpl]) => { const m = Math.floor((Date.now() - Date.parse(since)) / 60000);"
            " return m >= 12 && document.querySelector(sel)?.textContent === tpl.replace('{m}', String(m)); }",
            arg=[f"#assigned-units tr[data-unit='{unit}'] .unit-since", since, words["units.sinceMin"]])
        if lang == "zh-CN":
            assert not re.search(r"[A-Za-z]", cell.inner_text())
        # the unit acknowledges (the panel's step): a new status, timed from its own status_since
        row.locator("button[data-step=acknowledge]").click()
        pg.locator(f"#assigned-units tr[data-unit='{unit}'][data-status=en_route]").wait_for()
        with server.api("dispatcher") as c:
            now_since = c.get(f"/units/{unit}").json()["status_since"]
        assert now_since != since
        fresh = pg.locator(f"#assigned-units tr[data-unit='{unit}'] .unit-since")
        pg.wait_for_function("([sel, s]) => document.querySelector(sel)?.dataset.since === s",
                             arg=[f"#assigned-units tr[data-unit='{unit}'] .unit-since", now_since])
        m = pg.evaluate(minutes_js, now_since)
        want = words["units.sinceNow"] if m < 1 else words["units.sinceMin"].replace("{m}", str(m))
        pg.wait_for_function("([sel, w]) => document.querySelector(sel)?.textContent === w",
                             arg=[f"#assigned-units tr[data-unit='{unit}'] .unit-since", want])
        assert fresh.count() == 1
    finally:
        ctx.close()
        with server.api("dispatcher") as c:
            c.post(f"/incidents/{incident}/clear", json={"unit_id": unit})
    assert not errors, errors
