"""Issue 21, what the dispatcher expects: server errors in the reader's language.

A refused request (409: a unit taken out of service while it is on a job) shows, in the Chinese UI,
the dictionary's words for the server's error code and the field it names, never the server's
English sentence (that is only the tooltip where the screen has one); in the English UI the
server's sentence follows. Known answers: the error code, field and message are read from the API's
own answer to the same request on the same state, and the words from the page's dictionaries."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser


def _busy_unit_refusal(server: Server, page: Any, login: Callable[[Any, str], None],
                       lang: str) -> tuple[dict[str, Any], str]:
    """Open the admin's unit table, put the unit on a job behind its back, click 'out of service'."""
    unit = f"E2E-ERR-{uuid.uuid4().hex[:6]}"
    with server.api("admin") as c:
        r = c.post("/units", json={"id": unit, "unit_type": "patrol", "lat": 32.47, "lon": 119.91})
        assert r.status_code == 201, r.text
    login(page, "admin")
    if lang == "en":
        page.click("#lang-switch")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.click("#nav a[data-view=users]")
    row = page.locator("#admin-units-table tr", has_text=unit)
    row.locator("button.admin-unit-oos").wait_for()
    with server.api("dispatcher") as c:
        r = c.post("/calls", json={"lat": 32.471, "lon": 119.911, "type": "theft", "description": "电动车被盗"})
        assert r.status_code == 201, r.text
        c.post(f"/incidents/{r.json()['incident_id']}/dispatch", json={"unit_ids": [unit]}).raise_for_status()
        # the reference: what the server answers to the very request the button will send
        ref = c.post(f"/units/{unit}/status", json={"status": "out_of_service"})
    assert ref.status_code == 409, ref.text
    row.locator("button.admin-unit-oos").click()
    toast = page.locator("#toasts .toast.error").last
    toast.wait_for()
    return ref.json(), toast.inner_text()


def test_refusal_is_in_chinese_in_the_chinese_ui(page: Any, server: Server,
                                                 login: Callable[[Any, str], None]) -> None:
    body, shown = _busy_unit_refusal(server, page, login, "zh-CN")
    zh = page.evaluate("() => window.__precinctI18n['zh-CN']")
    assert body["error"] == "conflict" and body["detail"]["field"] == "status"
    assert zh["err.conflict"] in shown
    assert zh["col.status"] in shown  # the field the server names, in the UI's words
    assert body["message"] not in shown
    assert not re.search(r"[A-Za-z]{3,}", shown), shown  # no English words at all


def test_refusal_keeps_the_server_words_in_the_english_ui(page: Any, server: Server,
                                                          login: Callable[[Any, str], None]) -> None:
    body, shown = _busy_unit_refusal(server, page, login, "en")
    en = page.evaluate("() => window.__precinctI18n.en")
    assert shown.startswith(en["err.conflict"])
    assert body["message"] in shown
    assert "409" not in shown.replace(body["message"], "")


# --- incident popups on the map -------------------------------------------------------------------

POPUP_AT = (32.4551, 119.9377)
COLOURS = ["red", "orange", "yellow", "blue", "green"]


def _prio(p: Any) -> str:
    s = str(p).lower()
    return s if s in COLOURS else COLOURS[int(s.lstrip("p")) - 1]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_incident_popup_says_what_where_when_and_opens_the_board(browser: Any, server: Server, lang: str) -> None:
    with server.api("dispatcher") as c:
        r = c.post("/calls", json={"lat": POPUP_AT[0], "lon": POPUP_AT[1], "type": "theft",
                                   "address": "文昌中路 88 号", "description": "电动车被盗"})
        assert r.status_code == 201, r.text
        inc = c.get(f"/incidents/{r.json()['incident_id']}").json()
    assert inc["address"], inc
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        user, password = server.logins["dispatcher"]
        pg.goto(f"{server.url}/ui/")
        if lang == "en":
            pg.click("#lang-switch")
        pg.fill("#login-username", user)
        pg.fill("#login-password", password)
        pg.click("#login-submit")
        pg.wait_for_selector("#whoami")
        pg.goto(f"{server.url}/ui/#/board")
        pg.wait_for_function("(id) => (window.__precinctMap?.sets.get('incidents')?.rows ?? []).some(r => r.id === id)",
                             arg=inc["id"])
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)
        point = pg.evaluate(
            "(ll) => { const m = window.__precinctMap.map; m.setView(ll, 19, {animate: false});"
            " const r = m.getContainer().getBoundingClientRect();"
            " const p = m.latLngToContainerPoint(ll); return [r.left + p.x, r.top + p.y]; }", list(POPUP_AT))
        pg.mouse.click(point[0], point[1])
        popup = pg.locator(f".leaflet-popup-content .incident-popup[data-id='{inc['id']}']")
        popup.wait_for()
        text = popup.inner_text()
        prio = _prio(inc["priority"])
        assert popup.get_attribute("data-priority") == prio
        assert words[f"prio.{prio}"] in text
        assert (inc["type_name_zh"] if lang == "zh-CN" else inc["type_name_en"]) in text
        assert inc["address"] in text
        local = dt.datetime.fromisoformat(inc["created_at"].replace("Z", "+00:00"))
        assert local.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S") in text
        assert words[f"status.{inc['status']}"] in text
        if lang == "zh-CN":
            assert not re.search(r"[A-Za-z]{3,}", text.replace(inc["id"], "")), text  # no raw codes
        colour = pg.evaluate("() => getComputedStyle(document.querySelector('.incident-popup .prio-swatch'))"
                             ".backgroundColor")
        swatch = pg.evaluate("(p) => { const e = document.createElement('i'); e.style.background ="
                             " ({red:'#e0262a',orange:'#f28a1a',yellow:'#f2c81a',blue:'#2f7de1',green:'#2fa84f'})[p];"
                             " document.body.appendChild(e); const c = getComputedStyle(e).backgroundColor;"
                             " e.remove(); return c; }", prio)
        assert colour == swatch
        assert pg.query_selector(".leaflet-popup-content img, .leaflet-popup-content b b") is None
        # the board opened the incident's detail over the map with the same click: close it (Esc), then
        # the popup's link opens it again
        pg.wait_for_function("(id) => document.querySelector('#board-detail')?.textContent.includes(id)",
                             arg=inc["id"])
        pg.keyboard.press("Escape")
        pg.wait_for_function("(id) => !document.querySelector('#board-detail')?.textContent.includes(id)",
                             arg=inc["id"])
        pg.click(".incident-popup a.popup-board")
        pg.wait_for_function("(id) => document.querySelector('#board-detail')?.textContent.includes(id)",
                             arg=inc["id"])
        assert inc["id"] in pg.evaluate("() => location.hash")
    finally:
        ctx.close()
    assert not errors, errors
