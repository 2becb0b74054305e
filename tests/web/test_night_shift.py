"""Issue 21, the dashboard on a busy night shift: each defect found by users, driven in Chromium.

Every test fails on the dashboard before its fix: it acts as the user did and then checks the
server's state (or what the screen shows) against what the user meant.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.web.server import Server
from tests.web.test_dashboard import make_units, new_incident

pytestmark = pytest.mark.browser

Login = Callable[[Any, str], None]


def _open_new_call(page: Any) -> None:
    page.wait_for_selector("#call-form")
    page.wait_for_selector("#call-type option:nth-child(6)", state="attached")


def test_merge_attaches_the_new_call_not_the_previous_one(page: Any, server: Server, login: Login) -> None:
    """After one call, the next call's 并入此警情 on an unrelated incident must attach *that* call."""
    other = new_incident(server, 32.4601, 119.8802, "fight")  # an unrelated open incident elsewhere
    login(page, "call_taker")
    _open_new_call(page)
    page.select_option("#call-type", "theft")
    page.fill("#call-phone", "13900000021")
    page.fill("#call-lat", "32.4950")
    page.fill("#call-lon", "119.9300")
    page.fill("#call-description", "第一起 first call")
    page.click("#call-submit")
    page.wait_for_selector("#call-status:has-text('INC-')")
    first = re.search(r"INC-[\w-]+", page.inner_text("#call-status"))
    assert first
    # The next call: the caller is at the unrelated incident's place.
    page.fill("#call-phone", "13900000022")
    page.fill("#call-description", "第二起 second call, same scene as the other incident")
    page.fill("#call-lat", "32.4601")
    page.fill("#call-lon", "119.8802")
    page.dispatch_event("#call-lon", "change")
    page.wait_for_selector(f"#call-duplicates li[data-incident='{other}'] button")
    page.click(f"#call-duplicates li[data-incident='{other}'] button")
    page.wait_for_selector(f"#call-status:has-text('{other}'):has-text('已登记')")
    with server.api("dispatcher") as c:
        prev = c.get(f"/incidents/{first.group(0)}").json()
        target = c.get(f"/incidents/{other}").json()
    assert prev["status"] != "merged", "the previous call's incident was merged into an unrelated one"
    assert target["calls_count"] == 2, target  # the incident's own call and the new one


@pytest.fixture
def unit_out_of_service(server: Server) -> Iterator[str]:
    make_units(server)
    with server.api("dispatcher") as c:
        r = c.post("/units/P-03/status", json={"status": "out_of_service"})
        assert r.status_code == 200, r.text
    yield "P-03"
    with server.api("dispatcher") as c:
        c.post("/units/P-03/status", json={"status": "available"})


def _green(colour: str) -> bool:
    nums = [int(x) for x in re.findall(r"\d+", colour)[:3]]
    return len(nums) == 3 and nums[1] > 120 and nums[1] > nums[0] + 40 and nums[1] > nums[2] + 40


def test_out_of_service_units_do_not_look_available(page: Any, server: Server, login: Login,
                                                     unit_out_of_service: str) -> None:
    login(page, "dispatcher")
    page.goto(f"{server.url}/ui/#/board")
    cell = "#unit-table tr:has(td:text-is('巡3')) td[data-col=status] span.status"
    page.wait_for_selector(cell)
    assert page.inner_text(cell).strip().endswith("暂停勤务")
    assert not _green(page.eval_on_selector(cell, "el => getComputedStyle(el).color"))
    assert "out-of-service" in page.get_attribute("#unit-table tr:has(td:text-is('巡3'))", "class")
    avail = "#unit-table tr:has(td:text-is('巡1')) td[data-col=status] span.status"
    assert _green(page.eval_on_selector(avail, "el => getComputedStyle(el).color"))
    # The statistics on the map screen: a separate, non-green tile; the legend names it.
    page.goto(f"{server.url}/ui/#/map")
    tile = "#stats-units .stat[data-status=out_of_service]"
    page.wait_for_selector(tile)
    assert "out-of-service" in page.get_attribute(tile, "class")
    assert not _green(page.eval_on_selector(tile, "el => getComputedStyle(el).borderLeftColor"))
    assert int(page.inner_text(f"{tile} b")) >= 1
    assert page.query_selector("#unit-legend [data-status=out_of_service]") is not None


def _plan_body(server: Server, now: dt.datetime, **kw: Any) -> dict[str, Any]:
    """What the pursuit screen sends: every available unit with a position."""
    with server.api("dispatcher") as c:
        rows = c.get("/units").json()
    rows = rows.get("units", rows) if isinstance(rows, dict) else rows
    units = [{"id": u["id"], "lat": u["lat"], "lon": u["lon"]} for u in rows
             if u.get("status") == "available" and u.get("lat") is not None]
    body = {"lat": 32.4930, "lon": 119.9230, "seen_at": (now - dt.timedelta(minutes=2)).isoformat(),
            "now": now.isoformat(), "k": 3, "units": units}
    body.update(kw)
    return body


def test_checkpoint_orders_are_pushed_live(page: Any, server: Server, login: Login) -> None:
    make_units(server)
    login(page, "dispatcher")
    page.goto(f"{server.url}/ui/#/orders")
    page.wait_for_selector("#live-indicator[data-state=live]")
    now = dt.datetime.now(dt.UTC)
    with server.api("dispatcher") as c:
        r = c.post("/patrol/checkpoints", json=_plan_body(server, now, issue=True))
        assert r.status_code == 200, r.text
        ids = r.json()["order_ids"]
    assert ids
    # No reload, no click: the orders list shows them through the live stream.
    for oid in ids:
        page.wait_for_selector(f"#orders-table tr:has-text('{oid}')", timeout=15_000)


def test_an_empty_checkpoint_plan_cannot_be_issued(page: Any, server: Server, login: Login) -> None:
    make_units(server)
    now = dt.datetime.now(dt.UTC)
    # The suspect was seen two hours ago with a one-minute deadline: no unit can set up in time.
    empty = _plan_body(server, now, seen_at=(now - dt.timedelta(minutes=120)).isoformat(), deadline_min=0.5,
                       horizon_min=1, units=[{"id": "P-03", "lat": 32.4750, "lon": 119.8950}])
    with server.api("dispatcher") as c:
        planned = c.post("/patrol/checkpoints", json=empty)
        assert planned.status_code == 200, planned.text
        assert planned.json()["checkpoints"] == []
        before = len(c.get("/orders", params={"limit": 1000}).json()["orders"])
        r = c.post("/patrol/checkpoints", json={**empty, "issue": True})
        assert 400 <= r.status_code < 500, r.text
        assert "checkpoint" in r.text
        assert len(c.get("/orders", params={"limit": 1000}).json()["orders"]) == before
    # On the screen: a plan without checkpoints leaves 一键下达 disabled.
    login(page, "dispatcher")
    page.goto(f"{server.url}/ui/#/pursuit")
    page.wait_for_selector("#pursuit-lat")
    page.fill("#pursuit-lat", "32.4930")
    page.fill("#pursuit-lon", "119.9230")
    page.dispatch_event("#pursuit-lon", "change")
    page.fill("#pursuit-ago", "120")
    page.fill("#pursuit-horizon", "1")
    page.fill("#pursuit-deadline", "1")
    page.click("#pursuit-plan")
    page.wait_for_selector("#pursuit-summary, #pursuit-error", timeout=60_000)
    assert page.query_selector("#checkpoint-table") is None
    assert page.is_disabled("#pursuit-issue")


def test_stale_recommendation_is_explained_and_the_plan_is_shown(page: Any, server: Server, login: Login) -> None:
    make_units(server)
    incident = new_incident(server, 32.4921, 119.9216, "theft")
    login(page, "dispatcher")
    page.goto(f"{server.url}/ui/#/board")
    page.wait_for_selector(f"#incident-table td:has-text('{incident}')")
    page.click(f"#incident-table td:has-text('{incident}')")
    page.wait_for_selector("#recommendations button.dispatch")
    # The response plan the server computed is on screen: level, unit types, shortfall, target.
    with server.api("dispatcher") as c:
        rec = c.get(f"/incidents/{incident}/recommendations").json()
    page.wait_for_selector("#response-plan #plan-table")
    assert page.get_attribute("#response-plan", "data-met") == str(rec["meets_arrival_target"]).lower()
    assert page.get_attribute("#response-plan", "data-short") == str(sum(p["short"] for p in rec["plan"]))
    assert str(rec["response_level_name"]) in page.inner_text("#response-plan")
    first = page.get_attribute("#recommendations button.dispatch", "data-unit")
    # Meanwhile the unit is taken out of service: the recommendation is stale.
    with server.api("dispatcher") as c:
        assert c.post(f"/units/{first}/status", json={"status": "out_of_service"}).status_code == 200
    try:
        page.click(f"#recommendations button.dispatch[data-unit='{first}']")
        page.wait_for_selector("#recs-stale")
        text = page.inner_text("#recs-stale")
        assert "推荐已过时" in text and not re.search(r"\b409\b", text), text
        # The list was fetched again: the unit is no longer offered.
        page.wait_for_selector("#recommendations, #recs-empty")
        offered = page.eval_on_selector_all("#recommendations button.dispatch", "els => els.map(e => e.dataset.unit)")
        assert first not in offered
        with server.api("dispatcher") as c:
            assert not c.get(f"/incidents/{incident}").json().get("units")
    finally:
        with server.api("dispatcher") as c:
            c.post(f"/units/{first}/status", json={"status": "available"})


def _open_by_priority(server: Server) -> dict[str, int]:
    counts: dict[str, int] = {}
    cursor = None
    with server.api("dispatcher") as c:
        while True:
            params: dict[str, Any] = {"open": "true", "limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = c.get("/incidents", params=params).json()
            for r in page["incidents"]:
                if r["status"] == "cleared":  # units gone, awaiting close: the board lists it, the map's
                    continue                  # counts are of incidents still needing a response
                counts[r["priority"]] = counts.get(r["priority"], 0) + 1
            cursor = page.get("next_cursor")
            if not cursor:
                return counts


@pytest.mark.parametrize("role", ["dispatcher", "admin", "call_taker"])
def test_map_counts_every_open_incident_not_only_those_since_login(page: Any, server: Server,
                                                                     login: Login, role: str) -> None:
    for i in range(3):  # received before anyone logs in
        new_incident(server, 32.4800 + i * 0.002, 119.9000, "homicide")
    expected = _open_by_priority(server)
    assert expected.get("red", 0) >= 3
    login(page, role)
    page.goto(f"{server.url}/ui/#/map")
    page.wait_for_selector("#stats-priority .stat[data-priority=red]")
    page.wait_for_selector(f"#stats-priority .stat[data-priority=red] b:text-is('{expected['red']}')", timeout=15_000)
    # Other tests on this server may open or close incidents meanwhile: compare with the API again
    # until both agree (a map that counts only what arrived since login never does).
    deadline = time.monotonic() + 15
    while True:
        shown = {p: int(page.inner_text(f"#stats-priority .stat[data-priority={p}] b"))
                 for p in ("red", "orange", "yellow", "blue", "green")}
        expected = _open_by_priority(server)
        if shown == {p: expected.get(p, 0) for p in shown} or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    assert shown == {p: expected.get(p, 0) for p in shown}


# Server codes that must never reach a Chinese screen as they are.
RAW = re.compile(r"(?<![\w./-])(new|en_route|on_scene|out_of_service|off_duty|available|dispatched|cleared|"
                 r"acknowledged|merged|(?:role|status|col|prio|state|disp|ut|nav|board|calls|map)\.[a-z_]+)(?![\w./-])")
ISO_MICRO = re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,}")
WALK_ROLES = ("call_taker", "dispatcher", "patrol", "analyst", "supervisor", "auditor", "admin")


@pytest.mark.parametrize("role", WALK_ROLES)
def test_chinese_screens_show_no_raw_keys(page: Any, server: Server, login: Login, role: str) -> None:
    make_units(server)
    with server.api("dispatcher") as c:  # statuses on every screen: overdue, dispatched, out of service
        late = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).isoformat()
        for kind in ("theft", "fight"):
            r = c.post("/calls", json={"lat": 32.4925, "lon": 119.9225, "type": kind, "received_at": late,
                                       "description": "walk"})
            assert r.status_code == 201, r.text
        c.post(f"/incidents/{r.json()['incident_id']}/dispatch", json={"unit_ids": ["P-01"]})
        c.post("/units/P-03/status", json={"status": "out_of_service"})
    login(page, role)
    views = page.eval_on_selector_all("#nav a", "els => els.map(e => e.dataset.view)")
    found: dict[str, list[str]] = {}
    for view in views:
        page.goto(f"{server.url}/ui/#/{view}")
        page.wait_for_selector(f"#nav a[data-view='{view}'].active")
        page.wait_for_timeout(1000)  # let the screen's first answers arrive (the stream never idles)
        text = page.inner_text("body")
        hits = sorted({m.group(1) for m in RAW.finditer(text)} | set(ISO_MICRO.findall(text)))
        if hits:
            found[view] = hits
    with server.api("dispatcher") as c:
        c.post("/units/P-03/status", json={"status": "available"})
    assert not found, f"raw keys on {role}'s screens: {found}"
