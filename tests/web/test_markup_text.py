"""Text that looks like markup is shown as text everywhere in the dashboard (issue 15).

A call description (and address), a unit's callsign, an order's title and a case's title and
reference all carry ``<img src=x onerror=...><b>...</b>``. Every screen that shows them (dispatch
board list and incident detail, the units table, the map's unit popup, orders, cases, supervision,
audit) is visited in zh-CN and English, and the phone app's order list and a public alert's headline
(its table row and its area's tooltip on the map) once; each must show the
literal text and build no element from it: no ``img[src=x]``, no ``<b>`` element made of the
marker's ``<b>...</b>``, ``window.__xss`` never set, no page errors (the ``page`` fixture fails on
any). The dashboard's CSP would also block the inline handler; this test checks the first line of
defence, that the text never becomes markup at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

TAG = f"bold{uuid.uuid4().hex[:6]}"
MARK = f"<img src=x onerror=window.__xss=1><b>{TAG}</b>"
CALL_AT = (32.4652, 119.8853)
UNIT_AT = (32.4662, 119.8866)
NO_MARKUP = ("() => ({xss: typeof window.__xss, imgs: document.querySelectorAll('img[src=\"x\"]').length, "
             f"bolds: Array.from(document.querySelectorAll('b')).filter((b) => b.textContent === '{TAG}').length}})")


@dataclass
class Planted:
    incident: str
    unit: str
    order: str
    case: str
    review_case: str


@pytest.fixture(scope="module")
def planted(server: Server) -> Planted:
    """A unit, a call (dispatched to it), an overdue order and a case, each carrying the markup."""
    unit = f"XSS-{uuid.uuid4().hex[:4]}"
    with server.api("dispatcher") as c:
        r = c.post("/units", json={"id": unit, "callsign": MARK, "lat": UNIT_AT[0], "lon": UNIT_AT[1]})
        assert r.status_code == 201, r.text
        r = c.post("/calls", json={"lat": CALL_AT[0], "lon": CALL_AT[1], "type": "theft",
                                   "description": f"呼救 {MARK}", "address": f"解放路 {MARK}"})
        assert r.status_code == 201, r.text
        incident = r.json()["incident_id"]
        r = c.post(f"/incidents/{incident}/dispatch", json={"unit_ids": [unit]})
        assert r.status_code in (200, 201), r.text
    with server.api("supervisor") as c:
        r = c.post("/orders", json={"title": f"指令 {MARK}", "body": MARK, "recipients": [f"unit:{unit}"],
                                    "deadline_minutes": 0.01})
        assert r.status_code == 201, r.text
        order = str(r.json().get("id") or r.json().get("order_id"))
        r = c.post("/cases", json={"title": f"案件 {MARK}", "type": "theft", "ref": MARK})
        assert r.status_code == 201, r.text
        case = str(r.json()["id"])
    review = server.open_case("supervisor", "审计抽查 markup review", "review")
    return Planted(incident=incident, unit=unit, order=order, case=case, review_case=review)


def _no_markup(page: Any, where: str) -> None:
    got = page.evaluate(NO_MARKUP)
    assert got == {"xss": "undefined", "imgs": 0, "bolds": 0}, f"{where}: markup became elements: {got}"


def _shows(page: Any, selector: str, where: str) -> None:
    page.wait_for_selector(selector)
    page.wait_for_function(f"() => Array.from(document.querySelectorAll({selector!r}))"
                           f".some((e) => e.textContent.includes({TAG!r}))")
    texts = page.eval_on_selector_all(selector, "els => els.map((e) => e.innerText)")
    assert any(MARK in t for t in texts), f"{where}: the literal text is not shown: {texts}"
    _no_markup(page, where)


def _go(page: Any, server: Server, hash_: str) -> None:
    page.goto(f"{server.url}/ui/#/{hash_}")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_markup_in_names_and_texts_is_shown_as_text(page: Any, server: Server, planted: Planted,
                                                    login: Callable[[Any, str], None], lang: str) -> None:
    page.goto(f"{server.url}/ui/")
    if lang == "en":
        page.click("#lang-switch")
    login(page, "supervisor")
    assert page.evaluate("() => localStorage.getItem('precinct.lang') || 'zh-CN'") == lang

    # dispatch board: the list (address), the incident's detail (description, assigned callsign), units
    _go(page, server, f"board?incident={planted.incident}")
    _shows(page, "#incident-table td", "board list")
    _shows(page, "#board-detail", "incident detail")
    _shows(page, "#assigned-units td[data-col=unit]", "incident detail: assigned units")
    _shows(page, "#unit-table td", "board units table")

    # the map's unit popup (the board's map)
    point = page.evaluate(
        "(ll) => { const m = window.__precinctMap.map; m.setView(ll, 17, {animate: false});"
        " const p = m.latLngToContainerPoint(ll); const r = m.getContainer().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }", list(UNIT_AT))
    page.mouse.click(point[0], point[1])  # the map hit-tests its canvas layers at the click, units first
    _shows(page, ".leaflet-popup-content", "map popup")

    # orders and supervision (the order is overdue)
    _go(page, server, "orders")
    _shows(page, "#orders-table td", "orders")
    _go(page, server, "supervision")
    _shows(page, "#overdue-order-table td", "supervision: overdue orders")

    # cases: the list and the workspace
    _go(page, server, "cases")
    _shows(page, "#cases-table td", "cases list")
    page.click(f"#cases-table tr:has-text('{planted.case}')")
    _shows(page, "#case-workspace h3", "case workspace")

    # audit: the case's records (its reference is in the opening record's parameters)
    _go(page, server, "audit")
    page.fill("#audit-case", planted.case)
    page.click("#audit-search")
    page.wait_for_selector("#case-id")
    page.fill("#case-id", planted.review_case)
    page.click("#case-ok")
    _shows(page, "#audit-table td", "audit records")


def test_the_phone_shows_an_order_title_with_markup_as_text(browser: Any, server: Server) -> None:
    with server.api("supervisor") as c:
        r = c.post("/orders", json={"title": f"手机指令 {MARK}", "body": MARK, "recipients": ["user:patrol1"],
                                    "deadline_minutes": 30})
        assert r.status_code == 201, r.text
        order = str(r.json().get("id") or r.json().get("order_id"))
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN")
    phone = ctx.new_page()
    phone.set_default_timeout(20_000)
    errors: list[str] = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    try:
        user, password = server.logins["patrol"]
        phone.goto(f"{server.url}/m/")
        phone.fill("#m-username", user)
        phone.fill("#m-password", password)
        phone.tap("#m-login")
        _shows(phone, "#m-orders [data-order] h3", "phone: orders")
    finally:
        ctx.close()
        with server.api("patrol") as c:  # acknowledged, so other tests find patrol1 with no order pending
            c.post(f"/orders/{order}/ack", json={}).raise_for_status()
    assert not errors, f"JavaScript errors in the page: {errors}"


ALERT_AT = (32.4612, 119.8811)


def _hover(page: Any, latlon: tuple[float, float]) -> None:
    """Move the mouse over ``latlon`` on the operations map (centred there first)."""
    point = page.evaluate(
        "(ll) => { const m = window.__precinctMap.map; m.setView(ll, 16, {animate: false});"
        " const p = m.latLngToContainerPoint(ll); const r = m.getContainer().getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }", list(latlon))
    page.mouse.move(point[0] + 5, point[1] + 5)
    page.mouse.move(point[0], point[1])


def test_an_alert_headline_with_markup_is_text_in_the_list_and_the_map_tooltip(
        page: Any, server: Server, login: Callable[[Any, str], None]) -> None:
    texts = {"event": "测试 test", "headline": f"预警 {MARK}", "description": "markup check"}
    with server.api("dispatcher") as c:
        r = c.post("/publishing/alerts", json={
            "zh": texts, "en": texts, "circle": f"{ALERT_AT[0]},{ALERT_AT[1]},0.3", "urgency": "Expected",
            "severity": "Minor", "certainty": "Observed", "expires_hours": 1})
        assert r.status_code == 201, r.text
        alert = r.json()["id"]
    with server.api("supervisor") as c:
        c.post(f"/publishing/alerts/{alert}/approve").raise_for_status()
    try:
        login(page, "supervisor")
        _go(page, server, "public")
        _shows(page, "#pa-active-table td", "public alerts: active")
        _hover(page, ALERT_AT)  # the active alert's area, drawn on the map with its headline as tooltip
        _shows(page, ".leaflet-tooltip", "public alerts: the area's tooltip")
    finally:
        with server.api("supervisor") as c:
            c.post(f"/publishing/alerts/{alert}/cancel", json={"reason": "test over"}).raise_for_status()


def test_the_check_sees_markup_made_into_elements(page: Any, server: Server) -> None:
    """The assertion above can fail: the same markup parsed as HTML is caught (and the CSP still
    keeps its inline handler from running)."""
    page.goto(f"{server.url}/ui/")
    page.evaluate("(m) => { const d = document.createElement('div'); d.innerHTML = m; document.body.append(d); }",
                  MARK)
    with pytest.raises(AssertionError, match="markup became elements"):
        _no_markup(page, "a div filled through innerHTML")
    got = page.evaluate(NO_MARKUP)
    assert got["imgs"] == 1 and got["bolds"] == 1 and got["xss"] == "undefined"
