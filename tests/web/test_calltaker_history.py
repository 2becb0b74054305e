"""Issue 21, call-taker: repeat-caller history on the intake form (zh-CN and en).

The number typed is looked up under a case with an incident linked, for incident_response (the
case prompt asks for it); the screen shows how often it called in the last 30 days, each call's
local time, type, priority and status or disposition, the number masked but for its last 4 digits;
the server audits the lookup with the number. A case without an incident is refused, on screen.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

Login = Callable[[Any, str], None]
# The browser's local time of an instant, to the minute (24-h), as the screen writes it.
LOCAL_MINUTE = """iso => { const x = new Date(iso), p = n => String(n).padStart(2, '0');
  return `${x.getFullYear()}-${p(x.getMonth() + 1)}-${p(x.getDate())} ${p(x.getHours())}:${p(x.getMinutes())}`; }"""


def _call(server: Server, number: str, days: float, kind: str) -> dict[str, Any]:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": 32.4801, "lon": 119.9101, "type": kind, "caller_phone": number,
                                   "description": "repeat caller", "received_at": when.isoformat()})
        assert r.status_code == 201, r.text
        return {**r.json(), "received_at": when.isoformat()}


def _records(server: Server, case_id: str) -> list[dict[str, Any]]:
    with server.api("auditor") as c:
        r = c.get("/audit/records", params={"case_id": case_id, "limit": 50}, headers=server.review_headers())
        assert r.status_code == 200, r.text
        return [x for x in r.json()["records"] if x["resource"] == "calls.history"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_repeat_caller_history_under_a_case(page: Any, server: Server, login: Login, lang: str) -> None:
    last4 = f"{random.Random(lang).randrange(10_000):04d}"
    number = f"1390021{last4}"
    recent = _call(server, number, 2, "fight")
    older = _call(server, f"139-0021-{last4}", 10, "theft")
    _call(server, number, 40, "noise")  # outside the 30 days
    with server.api("dispatcher") as c:  # the older one was closed: its disposition is shown
        r = c.post(f"/incidents/{older['incident_id']}/close", json={"disposition": "false_alarm"})
        assert r.status_code == 200, r.text
        types = {t["code"]: t for t in c.get("/incident-types").json()["types"]}
    case_id = server.open_case("call_taker", f"repeat caller {lang}", "public_order")
    bare_case = server.open_case("call_taker", f"no incident {lang}", "public_order")
    with server.api("call_taker") as c:
        r = c.post(f"/cases/{case_id}/links", json={"kind": "incident", "id": recent["incident_id"]})
        assert r.status_code == 200, r.text

    login(page, "call_taker")
    if lang == "en":
        page.click("#lang-switch")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
    dicts = page.evaluate("() => window.__precinctI18n")
    d = dicts[lang]
    page.wait_for_selector("#call-form")
    page.fill("#call-phone", f"139 0021 {last4}")
    page.press("#call-phone", "Tab")
    # No case chosen yet: nothing is looked up by itself, the button says why it needs one.
    page.wait_for_selector("#call-history-lookup")
    assert page.inner_text("#call-history-lookup") == d["calls.hist.lookup"]
    assert d["calls.hist.needCase"] in page.inner_text("#call-history")
    assert _records(server, case_id) == []

    # A case with no incident linked: refused by the server, said on the screen.
    page.click("#call-history-lookup")
    page.fill("#case-id", bare_case)
    page.select_option("#case-purpose", "incident_response")
    page.click("#case-ok")
    page.wait_for_selector("#call-history-error")
    err = page.inner_text("#call-history-error")
    assert err.startswith(d["calls.hist.refused"].split("{")[0])
    if lang == "zh-CN":
        assert not re.search(r"[A-Za-z]{3,}", err), err  # no English in the Chinese UI

    # The right case: the history, masked number, two calls in the window, newest first.
    page.click("#case-chip button.link")  # change the case from the header chip
    page.fill("#case-id", case_id)
    page.select_option("#case-purpose", "incident_response")
    page.click("#case-ok")
    page.click("#call-history-lookup")
    page.wait_for_selector("#call-history-count[data-count='2']")
    box = page.inner_text("#call-history")
    assert f"*******{last4}" in box and number not in box and f"0021{last4}" not in box
    assert page.inner_text("#call-history-count") == d["calls.hist.count"].format(
        number=f"*******{last4}", n=2, days=30)
    items = page.eval_on_selector_all("#call-history-list li", "els => els.map(e => [e.dataset.call, e.innerText])")
    assert [i[0] for i in items] == [recent["id"], older["id"]]
    name = "name_zh" if lang == "zh-CN" else "name_en"
    for (_, text), call, kind, state in ((items[0], recent, "fight", d["status.new"]),
                                         (items[1], older, "theft", d["disp.false_alarm"])):
        local = page.evaluate(LOCAL_MINUTE, call["received_at"])
        assert local in text, (local, text)
        assert types[kind][name] in text and d[f"prio.{types[kind]['priority']}"] in text and state in text, text
    if lang == "zh-CN":
        assert not re.search(r"[A-Za-z]{2,}", box), box

    # The lookup is in the audit log with the number as stored, under the case and purpose.
    recs = [x for x in _records(server, case_id) if x["outcome"] == "ok"]
    assert len(recs) == 1, recs
    assert recs[0]["params"]["number"] == number and recs[0]["purpose"] == "incident_response"
    assert recs[0]["result_count"] == 2
    refused = _records(server, bare_case)
    assert [x["outcome"] for x in refused] == ["refused"]

    # With the case chosen, the next number is looked up as soon as it is entered; an edit clears it.
    page.fill("#call-phone", "13900000000")
    page.press("#call-phone", "Tab")
    page.wait_for_selector("#call-history-count[data-count='0']")
    assert page.inner_text("#call-history-count") == d["calls.hist.none"].format(number="*******0000", days=30)
    page.fill("#call-phone", "1390000000")
    assert page.query_selector("#call-history-count") is None



@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_history_is_looked_up_once_per_number_typed(page: Any, server: Server, login: Login, lang: str) -> None:
    """The form is drawn again on a tab or language switch: the history of the number typed is shown
    again from what was read, not read again (each read is audited: one record per number typed);
    another number is a new read, and so is the same number on the next call."""
    last4 = f"{random.Random(f'once-{lang}').randrange(10_000):04d}"
    number, other = f"1390031{last4}", f"1390032{last4}"
    first = _call(server, number, 1, "fight")
    case_id = server.open_case("call_taker", f"history once {lang}", "public_order")
    with server.api("call_taker") as c:
        r = c.post(f"/cases/{case_id}/links", json={"kind": "incident", "id": first["incident_id"]})
        assert r.status_code == 200, r.text

    def reads(num: str) -> int:
        return sum(1 for x in _records(server, case_id) if x["outcome"] == "ok" and x["params"]["number"] == num)

    login(page, "call_taker")
    if lang == "en":
        page.click("#lang-switch")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.wait_for_selector("#call-form")
    page.fill("#call-phone", number)
    page.press("#call-phone", "Tab")
    page.click("#call-history-lookup")
    page.fill("#case-id", case_id)
    page.select_option("#case-purpose", "incident_response")
    page.click("#case-ok")
    page.wait_for_selector("#call-history-count[data-count='1']")
    assert reads(number) == 1

    # away and back, then the other language and back: the history is on screen, read once
    page.evaluate("() => { location.hash = '#/map'; }")
    page.wait_for_selector("#call-form", state="detached")
    page.evaluate("() => { location.hash = '#/calls'; }")
    page.wait_for_selector("#call-history-count[data-count='1']")
    assert page.input_value("#call-phone") == number
    for _ in range(2):
        page.click("#lang-switch")
        page.wait_for_selector("#call-history-count[data-count='1']")
    d = page.evaluate("(l) => window.__precinctI18n[l]", lang)
    assert page.inner_text("#call-history-count") == d["calls.hist.count"].format(
        number=f"*******{last4}", n=1, days=30)
    page.wait_for_timeout(500)  # a second read would have been sent by now
    assert reads(number) == 1

    # another number: read (once, across a switch)
    page.fill("#call-phone", other)
    page.press("#call-phone", "Tab")
    page.wait_for_selector("#call-history-count[data-count='0']")
    page.evaluate("() => { location.hash = '#/map'; }")
    page.wait_for_selector("#call-form", state="detached")
    page.evaluate("() => { location.hash = '#/calls'; }")
    page.wait_for_selector("#call-history-count[data-count='0']")
    page.wait_for_timeout(500)
    assert (reads(number), reads(other)) == (1, 1)

    # the call is created: the next call with the same number is a new lookup, for that call
    page.fill("#call-lat", "32.4802")
    page.fill("#call-lon", "119.9102")
    page.fill("#call-type-search", "fight")
    page.select_option("#call-type", "fight")
    page.click("#call-submit")
    page.wait_for_function("() => document.querySelector('#call-phone').value === ''")
    assert page.query_selector("#call-history-count") is None
    page.fill("#call-phone", other)
    page.press("#call-phone", "Tab")
    page.wait_for_selector("#call-history-count[data-count='1']")
    assert reads(other) == 2
