"""Issue 21: the board's shortcut for "acknowledge" (zh-CN and en).

With a new red call's banner showing and two hotlist hits on the board, ``a`` first does what the
banner's own acknowledge button does (the banner goes, the header's red count drops, no hit is
touched); then each ``a`` acknowledges the newest hit nobody has acknowledged yet, stored on the
server under the dispatcher's name (read back through the API under a case); with none left it
says so. The shortcuts are listed in the reader's language under the "?" beside the filters (the
``?`` key opens the list too). Known answers: the alert ids and acknowledgements from the API, the
words from the page's dictionaries."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from tests.web.server import Server
from tests.web.test_dashboard import new_incident

pytestmark = pytest.mark.browser


def _red_count(pg: Any) -> int:
    return int(pg.evaluate("() => { const b = document.querySelector('#red-unacked');"
                           " return b && !b.hidden ? +(b.textContent.match(/\\d+/) || [0])[0] : 0; }"))


def _stored(server: Server, ids: list[str]) -> dict[str, Any]:
    """The server's record of the alerts (a personal read, under a case and purpose)."""
    case = server.open_case("dispatcher", "快捷键确认核对", "theft")
    with server.api("dispatcher") as c:
        r = c.get("/anpr/alerts", params={"limit": 500},
                  headers={"X-Case-Id": case, "X-Purpose": "hotlist_alert"})
        assert r.status_code == 200, r.text
        rows = r.json()["alerts"]
    return {str(a["alert_id"]): a for a in rows if str(a["alert_id"]) in ids}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_acknowledges_the_banner_then_the_newest_hit(browser: Any, server: Server, login: Any, lang: str) -> None:
    tag = uuid.uuid4().hex[:4]
    plates = [f"苏K{tag[:2].upper()}{i}{uuid.uuid4().int % 1000:03d}" for i in range(2)]
    cam, at = f"CAM-KEY-{tag}", (32.4583, 119.9471)
    with server.api("admin") as c:
        r = c.put("/anpr/cameras", json=[{"camera_id": cam, "name": "海陵南路卡口", "lat": at[0], "lon": at[1]}])
        assert r.status_code == 200, r.text
    with server.api("analyst") as c:
        r = c.post("/anpr/hotlist", json={"entries": [{"plate": p, "reason": "快捷键测试", "list": "stolen"}
                                                      for p in plates]})
        assert r.status_code == 201, r.text

    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        user = server.logins["dispatcher"][0]
        login(pg, "dispatcher", lang)
        pg.goto(f"{server.url}/ui/#/board")
        pg.wait_for_selector("#board-alerts")
        pg.wait_for_function("() => document.body.dataset.live === 'live'")
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)

        # the shortcuts, discoverable: on the filter line and listed in words under "?"
        assert " a " in pg.inner_text("#board-keys")
        assert pg.locator("#board-keys-help").is_hidden()
        pg.click("#board-keys-toggle")
        help_a = pg.locator("#board-keys-help li[data-key='a']")
        help_a.wait_for()
        assert help_a.inner_text() == f"a {words['board.key.a']}"
        for key in ("j", "k", "d", "Esc"):
            assert pg.locator(f"#board-keys-help li[data-key='{key}']").inner_text().endswith(
                words[f"board.key.{key.lower()}"])
        if lang == "zh-CN":
            assert not re.search(r"[A-Za-z]{2,}", help_a.inner_text()), help_a.inner_text()
        pg.keyboard.press("?")
        pg.wait_for_selector("#board-keys-help", state="hidden")

        # two hits, the second newer; then a new red call (banner)
        ids = []
        for p in plates:
            with server.api("admin") as c:
                r = c.post("/anpr/reads", json=[{"plate": p, "ts": "2026-12-05T01:02:03Z", "lat": at[0], "lon": at[1],
                                                 "camera_id": cam}])
                assert r.status_code == 200 and r.json()["alerts"] == 1, r.text
            row = pg.locator("#board-alert-list li.alert-row", has_text=p)
            row.wait_for()
            ids.append(str(row.get_attribute("data-alert")))
        assert int(ids[1]) > int(ids[0])
        red = new_incident(server, 32.4588, 119.9466, "homicide")
        pg.wait_for_selector(f"#red-banner[data-incident='{red}']")
        pg.wait_for_selector("#red-unacked:not([hidden])")
        reds = _red_count(pg)

        # a: the banner first (as its own button: acknowledged, gone), no hit touched
        pg.keyboard.press("a")
        pg.wait_for_selector("#red-banner", state="detached")
        pg.wait_for_function("(n) => { const b = document.querySelector('#red-unacked');"
                             " return b.hidden || +(b.textContent.match(/\\d+/) || [0])[0] === n; }", arg=reds - 1)
        assert pg.evaluate("(id) => JSON.parse(sessionStorage.getItem('precinct.redAck') || '[]').includes(id)", red)
        pg.wait_for_timeout(300)
        for i in ids:
            assert pg.get_attribute(f"#board-alert-list li[data-alert='{i}']", "data-acked") == "false"

        # a: the newest hit; a again: the one before it
        pg.keyboard.press("a")
        pg.locator(f"#board-alert-list li[data-alert='{ids[1]}'][data-acked='true']").wait_for()
        toast = pg.locator("#toasts .toast", has_text=plates[1]).last
        toast.wait_for()
        assert toast.inner_text() == words["alerts.ackedKey"].replace("{plate}", plates[1])
        assert pg.get_attribute(f"#board-alert-list li[data-alert='{ids[0]}']", "data-acked") == "false"
        stored = _stored(server, ids)
        assert stored[ids[1]]["acknowledged_by"] == user and not stored[ids[0]].get("acknowledged_at")
        pg.keyboard.press("a")
        pg.locator(f"#board-alert-list li[data-alert='{ids[0]}'][data-acked='true']").wait_for()
        stored = _stored(server, ids)
        assert all(stored[i]["acknowledged_by"] == user for i in ids)

        # none left: said, nothing sent
        pg.keyboard.press("a")
        pg.locator("#toasts .toast", has_text=words["alerts.noneToAck"]).wait_for()
        # typing in a field is not a shortcut
        pg.fill("#board-filter-text", "")
        pg.press("#board-filter-text", "a")
        assert pg.input_value("#board-filter-text") == "a"
        pg.fill("#board-filter-text", "")
    finally:
        ctx.close()
    assert not errors, errors
