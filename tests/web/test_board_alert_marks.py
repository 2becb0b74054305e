"""Issue 21: an acknowledged hotlist hit looks different from one waiting for acknowledgement, on the
map and in the board's list (zh-CN and en).

A hit waiting for acknowledgement is a filled magenta diamond on the map (the alert layer's own
canvas is read at the marker's point); once the dispatcher acknowledges it, the same marker is an
outline only, without a reload: its centre is empty and its outline magenta. The list's row fades
and its diamond becomes an outline; the map's legend names both kinds in the reader's language."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

AT = (32.4437, 119.9613)  # a place of this test's own (no other marker there)

# The alert layer's pixels around the marker: [centre rgba, the most magenta pixel within its box].
PIXELS = """(ll) => {
  const m = window.__precinctMap; const layer = m.layers.get('alerts');
  const p = m.map.latLngToContainerPoint(ll); const dpr = window.devicePixelRatio || 1;
  const ctx = layer.canvas.getContext('2d');
  const px = (x, y) => Array.from(ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data);
  let best = [0, 0, 0, 0];
  for (let dx = -12; dx <= 12; dx++) for (let dy = -12; dy <= 12; dy++) {
    const c = px(p.x + dx, p.y + dy);
    if (c[0] > 200 && c[1] < 90 && c[2] > 120 && c[3] > best[3]) best = c;
  }
  return [px(p.x, p.y), best];
}"""


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_acknowledged_hit_is_hollow_on_the_map_and_faded_in_the_list(browser: Any, server: Server, login: Any,
                                                                     lang: str) -> None:
    plate = f"苏M{uuid.uuid4().int % 100000:05d}"
    cam = f"CAM-MK-{uuid.uuid4().hex[:4]}"
    with server.api("admin") as c:
        r = c.put("/anpr/cameras", json=[{"camera_id": cam, "name": "鼓楼北路卡口", "lat": AT[0], "lon": AT[1]}])
        assert r.status_code == 200, r.text
    with server.api("analyst") as c:
        r = c.post("/anpr/hotlist", json={"entries": [{"plate": plate, "reason": "标记测试", "list": "wanted"}]})
        assert r.status_code == 201, r.text
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        login(pg, "dispatcher", lang)
        pg.goto(f"{server.url}/ui/#/board")
        pg.wait_for_selector("#board-alerts")
        pg.wait_for_function("() => document.body.dataset.live === 'live'")
        words = pg.evaluate("(l) => window.__precinctI18n[l]", lang)
        with server.api("admin") as c:
            r = c.post("/anpr/reads", json=[{"plate": plate, "ts": "2026-12-05T02:03:04Z", "lat": AT[0], "lon": AT[1],
                                             "camera_id": cam}])
            assert r.status_code == 200 and r.json()["alerts"] == 1, r.text
        row = pg.locator("#board-alert-list li.alert-row", has_text=plate)
        row.wait_for()
        alert_id = row.get_attribute("data-alert")
        pg.wait_for_function("(id) => (window.__precinctMap?.sets.get('alerts')?.rows ?? [])"
                             ".some(r => String(r.alert_id) === id)", arg=alert_id)
        # the map at the hit, the side panel closed (it could cover the point)
        pg.evaluate("(ll) => window.__precinctMap.map.setView(ll, 16, {animate: false})", list(AT))
        pg.wait_for_function(f"(ll) => ({PIXELS})(ll)[0][3] > 200", arg=list(AT))
        centre, edge = pg.evaluate(PIXELS, list(AT))
        assert centre[0] > 200 and centre[1] < 90 and centre[2] > 120, centre  # filled magenta
        legend = pg.locator("#alert-legend")
        assert words["map.alertsOpen"] in legend.inner_text() and words["map.alertsAcked"] in legend.inner_text()
        assert words["map.alerts"] in legend.inner_text()
        diamond = row.locator("i.diamond")
        filled = diamond.evaluate("e => getComputedStyle(e).backgroundColor")
        assert filled == "rgb(255, 0, 170)"
        assert float(row.evaluate("e => getComputedStyle(e).opacity")) == 1

        row.locator("button.alert-ack").click()
        pg.locator(f"#board-alert-list li[data-alert='{alert_id}'][data-acked='true']").wait_for()
        # the same marker, now hollow: an empty centre, a magenta outline (no reload)
        pg.wait_for_function(f"(ll) => ({PIXELS})(ll)[0][3] === 0", arg=list(AT))
        centre, edge = pg.evaluate(PIXELS, list(AT))
        assert edge[3] > 150, edge
        assert pg.evaluate("(id) => { const s = window.__precinctMap.sets.get('alerts');"
                           " const i = s.rows.findIndex(r => String(r.alert_id) === id); return s.colours[i]; }",
                           alert_id).startswith("ring:")
        # and in the list: faded, its diamond an outline
        acked = pg.locator(f"#board-alert-list li[data-alert='{alert_id}']")
        assert float(acked.evaluate("e => getComputedStyle(e).opacity")) < 1
        style = acked.locator("i.diamond").evaluate(
            "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.boxShadow]; }")
        assert style[0] == "rgba(0, 0, 0, 0)" and "255, 0, 170" in style[1], style
    finally:
        ctx.close()
    assert not errors, errors
