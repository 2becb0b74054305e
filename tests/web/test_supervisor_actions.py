"""The supervisor acts on overdue work from the supervision screen (issue 21), in Chinese and in
English: reminds an overdue order's silent recipient (the screen then says when and by whom; the
order's history agrees), reassigns that recipient to another unit (the order leaves the overdue
list with its new deadline; the API lists the new recipient), and sends an available unit to a red
incident past its dispatch target (the API shows the unit dispatched). The words shown are the
dictionary's words for the page's language."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

LANGS = ["zh-CN", "en"]
SPOT = (32.515, 119.955)  # away from the other screen tests' incidents and units


@pytest.fixture(scope="module")
def overdue_work(server: Server) -> dict[str, Any]:
    """Per language: a red incident nobody was sent to, three units next to it, and an order to two
    of them (one acknowledges) whose deadline passes in a few seconds."""
    made = time.monotonic()
    out: dict[str, Any] = {}
    with server.api("dispatcher") as c:
        for lang in LANGS:
            tag = f"S{lang[:2].upper()}{uuid.uuid4().hex[:4]}"
            units = [f"{tag}-{i}" for i in range(3)]
            for i, uid in enumerate(units):
                r = c.post("/units", json={"id": uid, "callsign": f"督{i}{tag[-2:]}", "unit_type": "special",
                                           "lat": SPOT[0] + 0.001 * i, "lon": SPOT[1] + 0.001 * (1 + i)})
                assert r.status_code == 201, r.text
            r = c.post("/calls", json={"lat": SPOT[0], "lon": SPOT[1], "type": "robbery", "priority": "red",
                                       "description": f"supervisor test {tag}"})
            assert r.status_code == 201, r.text
            incident = r.json()["incident_id"]
            deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)).isoformat()
            r = c.post("/orders", json={"title": f"合围 {tag}", "recipients": [f"unit:{units[0]}", f"unit:{units[1]}"],
                                        "deadline": deadline, "deadline_minutes": None})
            assert r.status_code == 201, r.text
            order = r.json()["id"]
            assert c.post(f"/orders/{order}/ack", json={"recipient": units[0]}).status_code == 200
            out[lang] = {"incident": incident, "order": order, "units": units}
        target = c.get(f"/incidents/{out[LANGS[0]]['incident']}").json()["timers"]["dispatch_target_s"]
    out["ready_at"] = made + target + 2
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_supervisor_reminds_and_reassigns(page: Any, server: Server, login: Callable[[Any, str], None],
                                         overdue_work: dict[str, Any], lang: str) -> None:
    work = overdue_work[lang]
    oid, inc, units = work["order"], work["incident"], work["units"]
    time.sleep(max(0.0, overdue_work["ready_at"] - time.monotonic()))  # the red incident's target passes
    login(page, "supervisor")
    if page.evaluate("() => document.documentElement.lang") != lang:
        page.click("#lang-switch")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
    words = page.evaluate("() => window.__precinctI18n")[lang]
    page.goto(f"{server.url}/ui/#/supervision")
    row = page.locator("#overdue-order-table tr", has_text=oid)
    row.wait_for()
    assert row.locator("td[data-col=reminder]").inner_text().strip() == "—"
    assert page.locator("#overdue-order-table th", has_text=words["sup.lastReminder"]).count() == 1

    # remind: the screen says when and by whom; the order's history and its last reminder agree
    row.locator("button.sup-remind").click()
    page.wait_for_function("(id) => [...document.querySelectorAll('#overdue-order-table tr')]"
                           ".some(tr => tr.textContent.includes(id) && tr.textContent.includes('supervisor1'))",
                           arg=oid)
    shown = row.locator("td[data-col=reminder]").inner_text()
    with server.api("supervisor") as c:
        view = c.get(f"/orders/{oid}").json()
    last = view["last_reminder"]
    assert last["by"] == "supervisor1" and last["to"] == [f"unit:{units[1]}"]
    assert view["history"][-1]["kind"] == "reminded"
    local = dt.datetime.fromisoformat(last["at"]).astimezone()  # the browser runs in this machine's zone
    assert local.strftime("%H:%M") in shown
    if lang == "zh-CN":
        assert "（supervisor1）" in shown
    else:
        assert shown.strip().endswith("by supervisor1")

    # reassign the silent unit to the third one, with fifteen more minutes: no longer overdue
    row.locator("button.sup-reassign").click()
    page.wait_for_selector("#sup-order-reassign")
    assert page.eval_on_selector("#sup-order-from", "s => [...s.options].map(o => o.value)") == [f"unit:{units[1]}"]
    page.fill("#sup-order-to", units[2])
    page.click("#sup-order-ok")
    page.wait_for_function("(id) => ![...document.querySelectorAll('#overdue-order-table tr')]"
                           ".some(tr => tr.textContent.includes(id))", arg=oid)
    with server.api("supervisor") as c:
        view = c.get(f"/orders/{oid}").json()
    assert sorted(r["recipient"] for r in view["recipients"]) == [f"unit:{units[0]}", f"unit:{units[2]}"]
    assert view["overdue"] is False and view["history"][-1]["kind"] == "reassigned"

    # the red incident nobody was sent to: reassign sends the chosen available unit
    irow = page.locator("#overdue-incident-table tr", has_text=inc)
    irow.wait_for()
    assert irow.locator("a.open-incident").inner_text() == words["sup.open"]
    irow.locator("button.sup-reassign").click()
    page.wait_for_selector("#sup-inc-reassign")
    assert words["sup.noUnitYet"] in page.inner_text("#sup-inc-reassign")
    page.wait_for_selector(f"#sup-inc-to option[value='{units[1]}']", state="attached")
    page.select_option("#sup-inc-to", units[1])
    page.click("#sup-inc-ok")
    page.wait_for_function("() => !document.querySelector('#sup-inc-reassign')")
    with server.api("supervisor") as c:
        got = c.get(f"/incidents/{inc}").json()
        unit = c.get(f"/units/{units[1]}").json()
    assert got["status"] == "dispatched" and unit["status"] == "dispatched" and unit["incident_id"] == inc
    text = page.inner_text("#panel") if page.locator("#panel").count() else page.inner_text("body")
    for raw in ("sup.", "status.", "undefined"):
        assert raw not in text


@pytest.mark.parametrize("lang", LANGS)
def test_orders_screen_shows_reminders_live(page: Any, server: Server, login: Callable[[Any, str], None],
                                            lang: str) -> None:
    """The orders screen says, on each order, who was reminded, by whom and when (local 24-h time),
    and a reminder sent while the screen is open appears there without a reload (orders.reminded)."""
    tag = f"R{lang[:2].upper()}{uuid.uuid4().hex[:4]}"
    units = [f"{tag}-{i}" for i in range(2)]
    with server.api("dispatcher") as c:
        for i, uid in enumerate(units):
            r = c.post("/units", json={"id": uid, "callsign": f"催{i}{tag[-3:]}", "unit_type": "patrol",
                                       "lat": SPOT[0] - 0.002 * (i + 1), "lon": SPOT[1]})
            assert r.status_code == 201, r.text
        r = c.post("/orders", json={"title": f"催办 {tag}", "recipients": [f"unit:{u}" for u in units],
                                    "deadline_minutes": 30})
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
        assert c.post(f"/orders/{oid}/ack", json={"recipient": units[0]}).status_code == 200
    login(page, "supervisor")
    if page.evaluate("() => document.documentElement.lang") != lang:
        page.click("#lang-switch")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
    words = page.evaluate("() => window.__precinctI18n")[lang]
    page.goto(f"{server.url}/ui/#/orders")
    page.wait_for_selector("body[data-live=live]")
    row = page.locator("#orders-table tr", has_text=oid)
    row.wait_for()
    assert page.locator("#orders-table th", has_text=words["sup.lastReminder"]).count() == 1
    assert row.locator("td[data-col=reminder]").inner_text().strip() == "—"

    with server.api("supervisor") as c:  # from another screen: the stream brings it here
        r = c.post(f"/orders/{oid}/remind")
        assert r.status_code == 200, r.text
        last = c.get(f"/orders/{oid}").json()["last_reminder"]
    page.wait_for_function("(id) => [...document.querySelectorAll('#orders-table tr')].some(tr =>"
                           " tr.textContent.includes(id) && tr.querySelector('.last-reminder'))", arg=oid)
    shown = row.locator("td[data-col=reminder]").inner_text().strip()
    local = dt.datetime.fromisoformat(last["at"]).astimezone()  # the browser runs in this machine's zone
    want = (words["orders.remindedTo"].replace("{time}", local.strftime("%Y-%m-%d %H:%M:%S"))
            .replace("{by}", "supervisor1").replace("{to}", f"催1{tag[-3:]}"))
    assert shown == want, (shown, want)
    assert re.search(r"\b\d{2}:\d{2}:\d{2}\b", shown) and not re.search(r"[AP]M|T\d{2}:", shown)
