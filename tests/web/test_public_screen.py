"""The public-communication screen (舆情发布): a supervisor draws a circle on the map, writes the alert
in Chinese and English and submits it; the author cannot approve it (four-eyes); a second
supervisor approves it on the same screen; the alert is then in the public Atom feed, and its CAP
document (checked here against the OASIS CAP 1.2 schema with libxml2 and its signature verified)
has the circle that was clicked. A bulletin is previewed with its phone number highlighted as
removed, drafted, and approved by the second supervisor."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from lxml import etree
from tests.web.conftest import shot
from tests.web.server import PASSWORD, Server

pytestmark = pytest.mark.browser

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


def wait_text(pg: Any, selector: str, text: str) -> None:
    """Wait until the element's text contains ``text`` (a page predicate given as a function: CSP)."""
    pg.wait_for_function("([sel, txt]) => (document.querySelector(sel)?.textContent ?? '').includes(txt)",
                         arg=[selector, text])


def second_supervisor(server: Server) -> str:
    name = f"sup2{uuid.uuid4().hex[:6]}"
    with server.api("admin") as c:
        r = c.post("/users", json={"username": name, "role": "supervisor", "password": PASSWORD})
        assert r.status_code == 201, r.text
    return name


def login_as(pg: Any, server: Server, username: str) -> None:
    pg.goto(f"{server.url}/ui/")
    pg.fill("#login-username", username)
    pg.fill("#login-password", PASSWORD)
    pg.click("#login-submit")
    pg.wait_for_selector("#whoami")


def test_draw_a_circle_submit_and_a_second_supervisor_publishes_it(
        page: Any, browser: Any, server: Server, login: Callable[[Any, str], None]) -> None:
    login(page, "supervisor")
    page.click("#nav a[data-view=public]")
    page.wait_for_selector("body[data-map-ready='1']")
    page.wait_for_selector("#pa-form")
    page.fill("#pa-radius", "1.5")
    page.click("#pa-draw-circle")
    box = page.query_selector("#map").bounding_box()
    x, y = box["width"] * 0.4, box["height"] * 0.5
    # Where Leaflet itself puts that pixel (the map's own projection, not the screen's code).
    lat, lon, lat1, lon1 = page.evaluate(
        "([x, y]) => { const m = window.__precinctMap.map; const p = m.containerPointToLatLng([x, y]);"
        " const q = m.containerPointToLatLng([x + 1, y + 1]); return [p.lat, p.lng, q.lat, q.lng]; }", [x, y])
    pixel = max(abs(lat1 - lat), abs(lon1 - lon))  # a mouse event lands within a pixel of the point
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_function("() => /1\\.5/.test(document.querySelector('#pa-area').textContent)")
    headline = f"冒充客服退款诈骗高发 {uuid.uuid4().hex[:6]}"
    page.fill("#pa-zh-event", "电信诈骗预警")
    page.fill("#pa-zh-headline", headline)
    page.fill("#pa-zh-description", "近期辖区多起冒充电商客服退款诈骗。")
    page.fill("#pa-zh-instruction", "不要向陌生人转账，如有疑问拨打96110。")
    page.fill("#pa-en-event", "Fraud warning")
    page.fill("#pa-en-headline", "Fake refund calls")
    page.fill("#pa-en-description", "Several fake customer-service refund frauds this week.")
    page.select_option("#pa-severity", "Moderate")
    page.click("#pa-submit")
    wait_text(page, "#pa-pending-table", headline)
    row = page.locator("#pa-pending-table tr", has_text=headline)
    alert_id = row.locator("td[data-col=id]").inner_text().strip()
    assert alert_id.startswith("PA-")
    assert row.locator(".pa-approve").count() == 0  # the author is offered no approval
    with server.api("supervisor") as c:  # and the API refuses it (four-eyes)
        assert c.post(f"/publishing/alerts/{alert_id}/approve").status_code == 403

    other = second_supervisor(server)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        pg2 = ctx.new_page()
        pg2.set_default_timeout(20_000)
        login_as(pg2, server, other)
        pg2.click("#nav a[data-view=public]")
        pg2.wait_for_selector(f".pa-approve[data-id='{alert_id}']")
        pg2.click(f".pa-approve[data-id='{alert_id}']")
        wait_text(pg2, "#pa-active-table", alert_id)
        shot(pg2, "public-alerts")
    finally:
        ctx.close()

    feed = httpx.get(f"{server.url}/api/v1/public/alerts.atom", timeout=30)
    assert feed.status_code == 200 and alert_id in feed.text and headline in feed.text
    doc = httpx.get(f"{server.url}/api/v1/public/alerts/{alert_id}/cap", timeout=30).content
    from precinct.config import Settings
    from precinct.public import cap

    schema = etree.XMLSchema(etree.parse(str(cap.XSD_PATH)))
    root = etree.fromstring(doc)
    assert schema.validate(root), schema.error_log
    cap.verify(doc, cap.signing_material(Settings(data_dir=server.data_dir)).cert_pem)
    circles = [c.text for c in root.iter(f"{CAP}circle")]
    assert circles, "no <circle> in the CAP document"
    m = re.fullmatch(r"(-?[\d.]+),(-?[\d.]+) ([\d.]+)", circles[0] or "")
    assert m, circles
    assert abs(float(m.group(1)) - lat) < pixel and abs(float(m.group(2)) - lon) < pixel and float(m.group(3)) == 1.5
    langs = sorted(i.findtext(f"{CAP}language") or "" for i in root.iter(f"{CAP}info"))
    assert langs == ["en-US", "zh-CN"]
    assert [i.findtext(f"{CAP}severity") for i in root.iter(f"{CAP}info")] == ["Moderate", "Moderate"]


def test_bulletin_preview_highlights_removed_personal_data_and_needs_a_second_person(
        page: Any, browser: Any, server: Server, login: Callable[[Any, str], None]) -> None:
    login(page, "supervisor")
    page.click("#lang-switch")  # English
    page.click("#nav a[data-view=public]")
    page.wait_for_selector("#pb-form")
    assert page.inner_text("#nav a[data-view=public]") == "Public alerts"
    title = f"Burglary series {uuid.uuid4().hex[:6]}"
    page.fill("#pb-source", "INC-1")
    page.fill("#pb-title_zh", "入室盗窃警情通报")
    page.fill("#pb-title_en", title)
    page.fill("#pb-body_zh", "报警人13800138000称家中被盗，民警已到场。")
    page.fill("#pb-body_en", "A caller (phone 13800138000) reported a burglary; officers attended.")
    page.click("#pb-preview-btn")
    page.wait_for_selector("#pb-preview mark")
    assert "13800138000" not in page.inner_text("#pb-preview")
    assert page.locator("#pb-preview mark").count() == 2
    page.check("#pb-strip")
    page.click("#pb-save")
    wait_text(page, "#pb-drafts", title)
    bulletin_id = page.locator("#pb-drafts tr", has_text=title).locator("td[data-col=id]").inner_text().strip()
    assert page.locator(f".pb-approve[data-id='{bulletin_id}']").count() == 0
    other = second_supervisor(server)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        pg2 = ctx.new_page()
        pg2.set_default_timeout(20_000)
        login_as(pg2, server, other)
        pg2.click("#nav a[data-view=public]")
        pg2.click(f".pb-approve[data-id='{bulletin_id}']")
        wait_text(pg2, "#pb-published", bulletin_id)
    finally:
        ctx.close()
    public = httpx.get(f"{server.url}/api/v1/public/bulletins", timeout=30).json()["bulletins"]
    mine = [b for b in public if b["id"] == bulletin_id]
    assert mine and "13800138000" not in str(mine[0])


def test_polygon_alert_cancelled_from_the_screen(page: Any, server: Server,
                                                 login: Callable[[Any, str], None]) -> None:
    login(page, "supervisor")
    page.click("#nav a[data-view=public]")
    page.wait_for_selector("body[data-map-ready='1']")
    page.wait_for_selector("#pa-form")
    page.click("#pa-draw-polygon")
    box = page.query_selector("#map").bounding_box()
    corners = [(0.3, 0.3), (0.5, 0.3), (0.5, 0.5), (0.3, 0.5)]
    expected = []
    for fx, fy in corners:
        x, y = box["width"] * fx, box["height"] * fy
        expected.append(page.evaluate("([x, y]) => { const p = window.__precinctMap.map.containerPointToLatLng([x, y]);"
                                      " return [p.lat, p.lng]; }", [x, y]))
        page.mouse.click(box["x"] + x, box["y"] + y)
    page.click("#pa-finish")
    wait_text(page, "#pa-area", "4")
    headline = f"道路封闭 {uuid.uuid4().hex[:6]}"
    texts_by_lang = (("zh", ("道路封闭", headline, "因施工封闭。")), ("en", ("Road closure", "Road closed", "Works.")))
    for lang, texts in texts_by_lang:
        for field, value in zip(("event", "headline", "description"), texts, strict=True):
            page.fill(f"#pa-{lang}-{field}", value)
    page.click("#pa-submit")
    wait_text(page, "#pa-pending-table", headline)
    alert_id = page.locator("#pa-pending-table tr", has_text=headline).locator("td[data-col=id]").inner_text().strip()
    other = second_supervisor(server)
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=60) as c:
        tok = c.post("/auth/token", data={"username": other, "password": PASSWORD}).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {tok}"
        assert c.post(f"/publishing/alerts/{alert_id}/approve").status_code == 200
        doc = etree.fromstring(httpx.get(f"{server.url}/api/v1/public/alerts/{alert_id}/cap", timeout=30).content)
        ring = [tuple(map(float, p.split(","))) for p in (doc.findtext(f".//{CAP}polygon") or "").split()]
        assert len(ring) == 5 and ring[0] == ring[-1]
        pixel = page.evaluate("() => { const m = window.__precinctMap.map; const a = m.containerPointToLatLng([0, 0]);"
                              " const b = m.containerPointToLatLng([1, 1]);"
                              " return Math.max(Math.abs(a.lat - b.lat), Math.abs(a.lng - b.lng)); }")
        for (la, lo), (ela, elo) in zip(ring[:4], expected, strict=True):
            assert abs(la - ela) < pixel and abs(lo - elo) < pixel
        page.click("#nav a[data-view=map]")  # back to the screen: the alert is active now
        page.click("#nav a[data-view=public]")
        page.click(f".pa-cancel[data-id='{alert_id}']")
        page.fill("#pa-cancel-reason", "道路已恢复通行 Road reopened")
        page.click("#pa-cancel-form button[type=submit]")
        # The screen says 撤销 for any cancellation (another test's may be there already): wait until
        # this alert's cancellation draft is stored, as the table shows it.
        cancel: list[dict[str, Any]] = []
        for _ in range(60):
            drafts = c.get("/publishing/alerts", params={"state": "draft"}).json()["alerts"]
            cancel = [a for a in drafts if a["references"] == alert_id and a["msg_type"] == "Cancel"]
            if cancel:
                break
            page.wait_for_timeout(500)
        wait_text(page, "#pa-pending-table", cancel[0]["id"] if cancel else "撤销")
        assert len(cancel) == 1
        assert alert_id in httpx.get(f"{server.url}/api/v1/public/alerts.atom", timeout=30).text  # not yet
        assert c.post(f"/publishing/alerts/{cancel[0]['id']}/approve").status_code == 200
    assert alert_id not in httpx.get(f"{server.url}/api/v1/public/alerts.atom", timeout=30).text
