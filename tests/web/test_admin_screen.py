"""The administrator's screen (issue 21): the admin creates an account on the screen, that account
can log in, the admin disables it and its login then fails (and enables it again); the admin creates
a unit, takes it out of service, and the API agrees. In Chinese and in English: the state words
shown are the dictionary's words for that language."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.web.conftest import shot
from tests.web.server import Server

pytestmark = pytest.mark.browser

PASSWORD = "e2e-admin-pass-1"


def _login_status(server: Server, username: str, password: str) -> int:
    return httpx.post(f"{server.url}/api/v1/auth/token", data={"username": username, "password": password},
                      timeout=60).status_code


def _row(page: Any, table: str, text: str) -> Any:
    return page.locator(f"#{table} tr", has_text=text)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_admin_manages_users_and_units(page: Any, server: Server, login: Callable[[Any, str], None],
                                       lang: str) -> None:
    login(page, "admin")
    if page.evaluate("() => document.documentElement.lang") != lang:
        page.click("#lang-switch")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
    words = page.evaluate("() => window.__precinctI18n")[lang]
    page.click("#nav a[data-view=users]")
    page.wait_for_selector("#admin-users-table")

    # an account made on the screen logs in; disabled, it cannot; enabled again, it can
    name = f"e2e{lang[:2]}{uuid.uuid4().hex[:6]}"
    page.fill("#admin-user-name", name)
    page.fill("#admin-user-display", "夜班调度员" if lang == "zh-CN" else "Night dispatcher")
    page.select_option("#admin-user-role", "dispatcher")
    page.fill("#admin-user-pass", PASSWORD)
    page.click("#admin-user-create")
    row = _row(page, "admin-users-table", name)
    row.wait_for()
    assert words["role.dispatcher"] in row.inner_text() and words["admin.active"] in row.inner_text()
    assert _login_status(server, name, PASSWORD) == 200
    row.locator("button.admin-toggle").click()
    page.wait_for_function("([n, w]) => [...document.querySelectorAll('#admin-users-table tr')]"
                           ".some(tr => tr.textContent.includes(n) && tr.textContent.includes(w))",
                           arg=[name, words["admin.disabled"]])
    assert _login_status(server, name, PASSWORD) == 401
    with server.api("admin") as c:
        listed = {u["username"]: u for u in c.get("/users").json()}
    assert listed[name]["active"] is False and listed[name]["role"] == "dispatcher"
    if lang == "zh-CN":
        shot(page, "admin")
    _row(page, "admin-users-table", name).locator("button.admin-toggle").click()
    page.wait_for_function("([n, w]) => [...document.querySelectorAll('#admin-users-table tr')]"
                           ".some(tr => tr.textContent.includes(n) && tr.textContent.includes(w))",
                           arg=[name, words["admin.active"]])
    assert _login_status(server, name, PASSWORD) == 200

    # a unit made on the screen, then taken out of service there: the API agrees
    unit = f"E2E-{lang[:2].upper()}-{uuid.uuid4().hex[:4]}"
    page.fill("#admin-unit-id", unit)
    page.fill("#admin-unit-callsign", f"{unit} call")
    page.select_option("#admin-unit-type", "traffic")
    page.fill("#admin-unit-station", "E2E station")
    page.click("#admin-unit-save")
    urow = _row(page, "admin-units-table", unit)
    urow.wait_for()
    assert words["admin.unitType.traffic"] in urow.inner_text()
    with server.api("admin") as c:
        before = c.get(f"/units/{unit}").json()
    assert before["callsign"] == f"{unit} call" and before["unit_type"] == "traffic"
    assert before["status"] != "out_of_service"
    urow.locator("button.admin-unit-oos").click()
    page.wait_for_function("([n, w]) => [...document.querySelectorAll('#admin-units-table tr')]"
                           ".some(tr => tr.textContent.includes(n) && tr.textContent.includes(w))",
                           arg=[unit, words["status.out_of_service"]])
    with server.api("admin") as c:
        assert c.get(f"/units/{unit}").json()["status"] == "out_of_service"
    assert "out_of_service" not in page.inner_text("#admin-units-table")


def test_admin_hotlist_read_asks_for_a_case_and_is_audited(page: Any, server: Server,
                                                           login: Callable[[Any, str], None]) -> None:
    """A plate added on the screen; showing the hotlist asks for the case and purpose first (a
    personal-data read), lists the plate, and the read is audited under that case; removing it on
    the screen deactivates it in the API."""
    login(page, "admin")
    page.click("#nav a[data-view=users]")
    page.wait_for_selector("#admin-hotlist-form")
    plate = f"苏K{uuid.uuid4().hex[:5].upper()}"
    page.fill("#admin-hotlist-plate", plate)
    page.fill("#admin-hotlist-reason", "E2E stolen vehicle")
    page.click("#admin-hotlist-add")
    page.wait_for_function("() => !document.querySelector('#admin-hotlist-plate').value")
    page.click("#admin-hotlist-load")
    page.wait_for_selector("#case-id")  # the case-and-purpose prompt comes first
    case_id = server.open_case("admin", "E2E hotlist upkeep", "theft")
    page.fill("#case-id", case_id)
    page.select_option("#case-purpose", "hotlist_alert")
    page.click("#case-ok")
    row = _row(page, "admin-hotlist-table", plate)
    row.wait_for()
    assert "E2E stolen vehicle" in row.inner_text()
    with server.api("auditor") as c:
        recs = c.get("/audit/records", params={"case_id": case_id, "limit": 20},
                     headers=server.review_headers()).json()["records"]
    assert any(r["resource"] == "anpr.hotlist" and r["outcome"] == "ok" for r in recs)
    row.locator("button.admin-hotlist-remove").click()
    page.wait_for_function("(p) => !document.querySelector('#admin-hotlist-out').textContent.includes(p)", arg=plate)
    with server.api("admin") as c:
        active = c.get("/anpr/hotlist", headers={"X-Case-Id": case_id, "X-Purpose": "hotlist_alert"}).json()["entries"]
    assert plate not in [e["plate"] for e in active]


def test_admin_adds_a_camera(page: Any, server: Server, login: Callable[[Any, str], None]) -> None:
    login(page, "admin")
    page.click("#nav a[data-view=users]")
    page.wait_for_selector("#admin-camera-form")
    # far from the town centre, so no other screen test (e.g. missing person) ranks it
    cam = f"E2E-CAM-{uuid.uuid4().hex[:5]}"
    page.fill("#admin-camera-id", cam)
    page.fill("#admin-camera-name", "东门卡口")
    page.fill("#admin-camera-lat", "32.6031")
    page.fill("#admin-camera-lon", "120.1187")
    page.click("#admin-camera-save")
    _row(page, "admin-cameras-table", cam).wait_for()
    with server.api("dispatcher") as c:
        cams = {x["camera_id"]: x for x in c.get("/anpr/cameras").json()["cameras"]}
    assert cams[cam]["lat"] == pytest.approx(32.6031) and cams[cam]["lon"] == pytest.approx(120.1187)
