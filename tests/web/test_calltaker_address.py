"""Issue 21, call-taker: address suggestions as you type, the chosen place said back and shown on
the map, and the duplicate check for that address before the call is submitted (zh-CN and en)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.server import Server
from tests.web.test_dashboard import new_incident

pytestmark = pytest.mark.browser

Login = Callable[[Any, str], None]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    s = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(s))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_address_suggestions_zoom_and_duplicate_before_submit(page: Any, server: Server, login: Login,
                                                              lang: str) -> None:
    # An open incident at 人民路 (Renmin Road, a street of the test city), created by its address:
    # the server's own resolution of the name is the place the suggestion must lead to.
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"address": "人民路", "type": "theft", "caller_phone": "13800000021",
                                   "description": "e2e address"})
        assert r.status_code == 201, r.text
        at = r.json()
    assert at["location_source"] == "geocoded"
    target, place = at["incident_id"], (at["lat"], at["lon"])
    far = new_incident(server, 32.4601, 119.8802, "fight")  # elsewhere: never suggested for this address
    far_m = _metres(place, (32.4601, 119.8802))

    login(page, "call_taker")
    if lang == "en":
        page.click("#lang-switch")
    page.wait_for_selector("#call-form")
    page.wait_for_selector("#call-type option:nth-child(6)", state="attached")
    page.select_option("#call-type", "theft")
    page.fill("#call-phone", "13900000031")
    # Part of the street's name, typed key by key as a call-taker would.
    page.type("#call-address", "人民" if lang == "zh-CN" else "Renm", delay=40)
    option = f"#call-address-suggestions button.addr-option:has-text('{at['address']}')"
    page.wait_for_selector(option)
    heading = page.inner_text("#call-address-suggestions span.muted")
    assert heading == ("匹配的道路和路口：" if lang == "zh-CN" else "Matching streets and junctions:")
    assert page.input_value("#call-lat") == ""  # nothing chosen yet
    page.click(option)

    # The place is said back, the coordinates filled, the map centred on it.
    resolved = page.inner_text("#call-resolved")
    assert at["address"] in resolved
    assert resolved.startswith("定位：" if lang == "zh-CN" else "Location:")
    assert abs(float(page.input_value("#call-lat")) - place[0]) < 1e-6
    assert abs(float(page.input_value("#call-lon")) - place[1]) < 1e-6
    page.wait_for_function(
        f"() => {{ const c = window.__precinctMap.map.getCenter(); "
        f"return Math.abs(c.lat - {place[0]}) < 1e-4 && Math.abs(c.lng - {place[1]}) < 1e-4; }}")
    assert page.evaluate("() => window.__precinctMap.map.getZoom()") >= 15

    # Before submitting: the open incident at that address is offered, the far one is not.
    page.wait_for_selector(f"#call-duplicates li[data-incident='{target}'] button.attach")
    if far_m > 1000:
        assert page.query_selector(f"#call-duplicates li[data-incident='{far}']") is None
    with server.api("dispatcher") as c:
        assert c.get(f"/incidents/{target}").json()["calls_count"] == 1  # nothing submitted yet

    # A language switch keeps the chosen place (said again in the other language) and the check.
    page.click("#lang-switch")
    page.wait_for_selector("#call-resolved:has-text('" + ("Location:" if lang == "zh-CN" else "定位：") + "')")
    assert page.input_value("#call-address") == at["address"]
    page.wait_for_selector(f"#call-duplicates li[data-incident='{target}'] button.attach")

    # Attaching the call to the suggested duplicate: the server records it on that incident.
    page.click(f"#call-duplicates li[data-incident='{target}'] button.attach")
    page.wait_for_selector(f"#call-status:has-text('{target}')")
    with server.api("dispatcher") as c:
        assert c.get(f"/incidents/{target}").json()["calls_count"] == 2
    assert page.inner_text("#call-resolved") == ""  # the next call starts without a place
    assert page.input_value("#call-lat") == ""
