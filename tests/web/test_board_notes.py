"""Issue 21: notes on an incident from the dispatcher's board: added in the side panel, listed in the
timeline with author and local 24-hour time, as text (markup stays text), and shown live on another
board that has the incident open, without wiping what is being typed there. Known answers: the
incident's history as the API returns it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser


def _open(browser: Any, server: Server, role: str, lang: str, incident: str) -> tuple[Any, Any, list[str]]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    user, password = server.logins[role]
    pg.goto(f"{server.url}/ui/")
    if lang == "en":
        pg.click("#lang-switch")
    pg.fill("#login-username", user)
    pg.fill("#login-password", password)
    pg.click("#login-submit")
    pg.wait_for_selector("#whoami")
    pg.wait_for_function("() => document.body.dataset.live === 'live'")
    pg.goto(f"{server.url}/ui/#/board?incident={incident}")
    pg.wait_for_selector("#board-detail #note-text")
    return ctx, pg, errors


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_note_in_the_timeline_live_on_the_other_board(browser: Any, server: Server, lang: str) -> None:
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": 32.4731, "lon": 119.9012, "type": "theft", "description": "电动车被盗"})
        assert r.status_code == 201, r.text
        inc = r.json()["incident_id"]
    made = [_open(browser, server, "dispatcher", lang, inc), _open(browser, server, "supervisor", lang, inc)]
    disp, sup = made[0][1], made[1][1]
    try:
        words = disp.evaluate("(l) => window.__precinctI18n[l]", lang)
        sup.fill("#note-text", "草稿未发")  # half-typed on the other board
        text = f"嫌疑人穿红色外套 <b>{uuid.uuid4().hex[:6]}</b>"
        disp.fill("#note-text", text)
        disp.click("#note-add")
        note = disp.locator("#incident-timeline li[data-kind=note]", has_text=text)
        note.wait_for()
        with server.api("dispatcher") as c:
            hist = c.get(f"/incidents/{inc}").json()["history"]
        ev = [e for e in hist if e["kind"] == "note"][-1]
        assert ev["detail"]["text"] == text
        when = dt.datetime.fromisoformat(ev["ts"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
        shown = note.inner_text()
        assert when.strftime("%Y-%m-%d %H:%M:%S") in shown and ev["actor"] in shown and words["ev.note"] in shown
        assert disp.locator("#incident-timeline b").count() == 0  # the markup stayed text
        assert disp.input_value("#note-text") == ""
        # live on the supervisor's board, which keeps its draft
        sup.locator("#incident-timeline li[data-kind=note]", has_text=text).wait_for()
        assert sup.input_value("#note-text") == "草稿未发"
    finally:
        for ctx, _pg, _e in made:
            ctx.close()
    errors = [e for _c, _p, errs in made for e in errs]
    assert not errors, errors
