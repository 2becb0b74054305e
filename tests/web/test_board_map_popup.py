"""Issue 21: the board's map. An incident clicked on the map opens its popup and the side panel
with the same click; the popup must be where it can be read, not behind the panel (at 1440×900 the
map's centre, where the incident is brought, lay under the panel's right edge). The map has a
legend for units (their statuses) and for hotlist alerts, in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

AT = (32.4633, 119.9021)


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(0.0, w) * max(0.0, h)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_incident_popup_is_not_behind_the_panel_and_the_map_has_a_legend(browser: Any, server: Server,
                                                                          lang: str) -> None:
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": AT[0], "lon": AT[1], "type": "theft", "description": "电动车被盗"})
        assert r.status_code == 201, r.text
        inc = r.json()["incident_id"]
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
                             arg=inc)
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)
        legend = pg.locator("#unit-legend")
        assert legend.is_visible()
        for s in ("available", "en_route", "on_scene", "out_of_service"):
            assert words[f"status.{s}"] in legend.locator(f"[data-status={s}]").inner_text()
        # the incident on the left of the map, where the side panel opens
        point = pg.evaluate(
            "(ll) => { const m = window.__precinctMap.map; m.setView(ll, 18, {animate: false});"
            " const r = m.getContainer().getBoundingClientRect(); m.panBy([r.width / 2 - 200, 0], {animate: false});"
            " const p = m.latLngToContainerPoint(ll); return [r.left + p.x, r.top + p.y]; }", list(AT))
        pg.mouse.click(point[0], point[1])
        pg.locator(f".leaflet-popup-content .incident-popup[data-id='{inc}']").wait_for()
        pg.wait_for_function("(id) => document.querySelector('#board-detail')?.textContent.includes(id)", arg=inc)
        # the map may still be on its way to the incident: wait until the popup is clear of the panel
        pg.wait_for_function(
            "() => { const a = document.querySelector('.leaflet-popup')?.getBoundingClientRect();"
            " const b = document.querySelector('#board-detail')?.getBoundingClientRect();"
            " return a && b && (a.right <= b.left || a.left >= b.right || a.bottom <= b.top || a.top >= b.bottom); }",
            timeout=10_000)
        popup = pg.locator(".leaflet-popup").bounding_box()
        panel = pg.locator("#board-detail").bounding_box()
        mapbox = pg.locator("#map").bounding_box()
        assert popup and panel and mapbox
        assert _overlap(popup, panel) == 0, (popup, panel)
        assert mapbox["x"] <= popup["x"] and popup["x"] + popup["width"] <= mapbox["x"] + mapbox["width"]
        assert mapbox["y"] <= popup["y"]
        # the alert legend (drawn once the alert layer exists) names alerts in the reader's language
        alert_legend = pg.locator("#alert-legend")
        if alert_legend.count():
            assert words["map.alerts"] in alert_legend.inner_text()
    finally:
        ctx.close()
    assert not errors, errors
