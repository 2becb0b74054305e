"""End-to-end: the dashboard in headless Chromium against a real Precinct server.

Each test drives the UI the way a user would and then checks the server's state through the API,
so a UI that only looks right still fails.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.web.conftest import shot
from tests.web.server import Server

pytestmark = pytest.mark.browser

# The navigation each role must see (and nothing more): mirrors the server's access rules.
EXPECTED_NAV = {
    "call_taker": {"map", "calls", "orders"},
    "dispatcher": {"map", "calls", "board", "pursuit", "missing", "orders", "patrol"},
    "patrol": {"map", "missing", "orders"},
    "analyst": {"map", "missing", "orders", "analyst", "patrol"},
    "supervisor": {"map", "calls", "board", "pursuit", "missing", "orders", "analyst", "patrol", "supervision",
                   "audit", "users"},
    "auditor": {"audit"},
    "admin": {"map", "pursuit", "missing", "patrol", "users"},
}
for _views in EXPECTED_NAV.values():  # every role works on its cases (the case is the key to personal data)
    _views.add("cases")
for _role in ("dispatcher", "analyst", "supervisor", "admin"):  # statistics, public bulletins, fraud (issues 23-25)
    EXPECTED_NAV[_role] |= {"analytics", "public", "fraud"}

Login = Callable[[Any, str], None]


def nav_keys(pg: Any) -> set[str]:
    return set(pg.eval_on_selector_all("#nav a", "els => els.map(e => e.dataset.view)"))


def make_units(server: Server) -> None:
    """Three patrol units near the centre (idempotent: POST /units upserts)."""
    with server.api("dispatcher") as c:
        for i, (lat, lon) in enumerate([(32.4905, 119.9205), (32.4990, 119.9350), (32.4750, 119.8950)], 1):
            r = c.post("/units", json={"id": f"P-0{i}", "unit_type": "patrol", "callsign": f"巡{i}",
                                       "lat": lat, "lon": lon})
            assert r.status_code == 201, r.text
            # Free it from an earlier test's incident, so every test starts with the three available.
            busy = c.get(f"/units/P-0{i}").json().get("incident_id")
            if busy:
                c.post(f"/incidents/{busy}/clear", json={"unit_id": f"P-0{i}"})
            c.post(f"/units/P-0{i}/status", json={"status": "available"})


def new_incident(server: Server, lat: float = 32.4920, lon: float = 119.9215, kind: str = "theft") -> str:
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": lat, "lon": lon, "type": kind, "caller_phone": "13800000001",
                                   "description": "e2e"})
        assert r.status_code == 201, r.text
        return str(r.json()["incident_id"])


@pytest.mark.parametrize("role", sorted(EXPECTED_NAV))
def test_each_role_sees_only_its_views(page: Any, login: Login, role: str) -> None:
    login(page, role)
    assert nav_keys(page) == EXPECTED_NAV[role]
    who = page.inner_text("#whoami")
    assert who.startswith(f"{role}1")
    # The auditor works without the operational map; everyone else has it.
    assert (page.query_selector("#map") is not None) == (role != "auditor")
    page.click("#logout")
    page.wait_for_selector("#login-username")


def test_wrong_password_is_refused(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/ui/")
    page.fill("#login-username", "dispatcher1")
    page.fill("#login-password", "not-the-password")
    page.click("#login-submit")
    page.wait_for_function("() => document.querySelector('#login-error').textContent.length > 0")
    assert page.query_selector("#whoami") is None


def test_language_switch_is_remembered(page: Any, server: Server, login: Login) -> None:
    page.goto(f"{server.url}/ui/")
    assert page.inner_text("#login-submit") == "登录"  # Simplified Chinese by default
    page.click("#lang-switch")
    assert page.inner_text("#login-submit") == "Sign in"
    page.reload()
    assert page.inner_text("#login-submit") == "Sign in"
    assert page.evaluate("localStorage.getItem('precinct.lang')") == "en"
    login(page, "dispatcher")
    assert page.inner_text("#nav a[data-view=board]") == "Dispatch board"
    page.click("#lang-switch")
    assert page.inner_text("#nav a[data-view=board]") == "指挥调度"


def test_call_taker_takes_a_call_and_sees_duplicates(page: Any, server: Server, login: Login) -> None:
    login(page, "call_taker")
    page.wait_for_selector("#call-form")
    page.wait_for_function("() => document.querySelectorAll('#call-type option').length > 5")
    page.select_option("#call-type", "theft")
    page.fill("#call-phone", "13912345678")
    page.fill("#call-lat", "32.4811")
    page.fill("#call-lon", "119.9102")
    page.fill("#call-description", "电动车被盗 e-bike stolen")
    page.click("#call-submit")
    page.wait_for_function("() => /INC-/.test(document.querySelector('#call-status').textContent)")
    incident = re.search(r"INC-[\w-]+", page.inner_text("#call-status"))
    assert incident, page.inner_text("#call-status")
    with server.api("dispatcher") as c:
        inc = c.get(f"/incidents/{incident.group(0)}").json()
    assert inc["type"] == "theft" and abs(inc["lat"] - 32.4811) < 1e-6
    # A second call a few metres away offers the open incident as a duplicate.
    page.fill("#call-lat", "32.4812")
    page.fill("#call-lon", "119.9103")
    page.dispatch_event("#call-lon", "change")
    page.wait_for_selector(f"#call-duplicates li[data-incident='{incident.group(0)}']")
    shot(page, "call-intake")


def test_dispatcher_recommends_dispatches_and_watches_the_unit_move(page: Any, server: Server, login: Login) -> None:
    make_units(server)
    incident = new_incident(server)
    login(page, "dispatcher")
    page.wait_for_selector("#live-indicator[data-state=live]")
    page.wait_for_selector(f"#incident-table td:has-text('{incident}')")
    page.click(f"#incident-table tr:has-text('{incident}')")
    page.wait_for_selector("#recommendations button.dispatch")
    # Fastest first: the ETAs shown are in ascending order.
    etas = page.eval_on_selector_all("#recommendations td[data-col=eta]", "els => els.map(e => e.textContent)")
    secs = [int(m) * 60 + int(s) for m, s in (e.split(":")[-2:] for e in etas)]
    assert secs == sorted(secs) and len(secs) >= 1
    unit = page.get_attribute("#recommendations button.dispatch", "data-unit")
    page.click("#recommendations button.dispatch")
    page.wait_for_selector(f"#assigned-units tr[data-unit='{unit}']")
    with server.api("dispatcher") as c:
        inc = c.get(f"/incidents/{incident}").json()
        assert inc["status"] == "dispatched"
        assert unit in [u["unit_id"] for u in inc["units"]]
        # The unit drives: a GPS fix arrives and the map follows through the live stream.
        r = c.post(f"/units/{unit}/position", json={"lat": 32.4915, "lon": 119.9211})
        assert r.status_code == 200, r.text
    page.wait_for_function(
        """u => { const s = window.__precinctMap.sets.get('units');
                 return s && s.rows.some(r => r.id === u && Math.abs(r.lat - 32.4915) < 1e-9); }""", arg=unit)
    shot(page, "dispatch-board")


def test_map_draws_operational_layers(page: Any, server: Server, login: Login) -> None:
    make_units(server)
    new_incident(server, 32.4870, 119.9150, "fight")
    login(page, "supervisor")
    page.goto(f"{server.url}/ui/#/map")
    page.wait_for_selector("body[data-map-ready='1']")
    paint = page.evaluate("window.__precinctPaint")
    assert paint["incidents"] >= 1 and paint["units"] >= 3
    with server.api("supervisor") as c:
        open_incidents = c.get("/incidents", params={"open": "true", "limit": 1000}).json()["incidents"]
    counts = page.eval_on_selector("#stats-priority", "el => [...el.querySelectorAll('b')].map(b => +b.textContent)")
    # The counts are of incidents still needing a response (a cleared one awaits close on the board).
    assert sum(counts) == len([r for r in open_incidents if r["status"] != "cleared"])
    if paint["roads"]:
        assert page.query_selector("#no-roads") is None
    shot(page, "map-overview")


def test_auditor_reads_the_log_for_a_case_and_sees_the_chain(page: Any, server: Server, login: Login) -> None:
    login(page, "auditor")
    page.wait_for_selector("#chain-status[data-ok=true]")
    page.fill("#audit-actor", "dispatcher1")
    page.click("#audit-search")
    page.wait_for_selector("#case-id")  # the case-and-purpose prompt comes first
    assert page.eval_on_selector_all("#case-purpose option", "els => els.map(e => e.value)") == ["audit_review"]
    page.fill("#case-id", aud := server.open_case("auditor", "审计抽查 audit review", "review"))
    page.click("#case-ok")
    page.wait_for_selector("#audit-table tbody tr")
    actors = set(page.eval_on_selector_all("#audit-table td[data-col=actor]", "els => els.map(e => e.textContent)"))
    assert actors == {"dispatcher1"}
    assert aud in page.inner_text("#case-chip")
    shot(page, "audit-log")
    # The read itself was audited, bound to the case entered in the prompt.
    with server.api("auditor") as c:
        recs = c.get("/audit/records", params={"actor": "auditor1", "limit": 5},
                     headers=server.review_headers()).json()["records"]
    assert any(r["case_id"] == aud and r["resource"] == "audit.records" for r in recs)


@pytest.fixture(scope="session")
def red_incident(server: Server) -> tuple[str, float]:
    """A red incident made when the module starts: its 60 s dispatch target has passed by the
    time the supervision test (near the end of the module) looks."""
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": 32.50, "lon": 119.94, "type": "robbery", "priority": "red",
                                   "caller_phone": "13700000000"})
        assert r.status_code == 201, r.text
        return str(r.json()["incident_id"]), time.monotonic()


@pytest.fixture(autouse=True)
def _red_early(red_incident: tuple[str, float]) -> None:
    return None


def test_supervisor_sees_overdue_incidents(page: Any, server: Server, login: Login,
                                           red_incident: tuple[str, float]) -> None:
    incident, made = red_incident
    with server.api("supervisor") as c:
        target = c.get(f"/incidents/{incident}").json()["timers"]["dispatch_target_s"]
    time.sleep(max(0.0, target + 2 - (time.monotonic() - made)))
    login(page, "supervisor")
    page.goto(f"{server.url}/ui/#/supervision")
    page.wait_for_selector(f"#overdue-incident-table td:has-text('{incident}')")
    # The dispatch board flags it too.
    page.goto(f"{server.url}/ui/#/board")
    page.wait_for_selector(f"#incident-table tr.overdue:has-text('{incident}')")
    shot(page, "supervision")


def _paths(server: Server) -> set[str]:
    return server.paths()


def test_orders_are_sent_and_acknowledged(page: Any, server: Server, login: Login) -> None:
    paths = _paths(server)
    if "/orders" not in paths or not any(re.match(r"^/orders/\{[^}]+\}/(ack|acknowledge)", p) for p in paths):
        pytest.skip("the orders API (POST /orders, POST /orders/{id}/ack) is not on this server yet")
    make_units(server)
    login(page, "dispatcher")
    page.goto(f"{server.url}/ui/#/orders")
    page.fill("#order-subject", "设卡盘查 checkpoint at the east bridge")
    page.fill("#order-body", "Stop and check grey vans heading east.")
    page.fill("#order-recipients", "P-01, P-02")  # units; the patrol user belongs to P-01
    page.fill("#order-deadline", "15")
    page.click("#order-send")
    page.wait_for_selector("#orders-table tbody tr")
    page.click("#logout")
    login(page, "patrol")  # the patrol user belongs to unit P-01
    page.goto(f"{server.url}/ui/#/orders")
    page.wait_for_selector("#orders-table button.ack")
    page.click("#orders-table button.ack")
    page.wait_for_function("() => !document.querySelector('#orders-table button.ack')")
    with server.api("dispatcher") as c:
        orders = c.get("/orders").json()
    rows = orders["orders"] if isinstance(orders, dict) else orders
    recips = [r for o in rows for r in o.get("recipients", []) if isinstance(r, dict)]
    assert any(r.get("acknowledged_at") for r in recips)
    shot(page, "orders")


def test_analyst_runs_an_association_query(page: Any, server: Server, login: Login) -> None:
    paths = _paths(server)
    assoc = [p for p in paths if p.startswith("/anpr/") and "associat" in p]
    if not assoc:
        pytest.skip("no vehicle–case association route (/api/v1/anpr/...associat...) on this server yet")
    login(page, "analyst")
    page.goto(f"{server.url}/ui/#/analyst")
    page.click("#query-tabs button[data-kind=associate]")
    for name, value in (("lat", "32.49"), ("lon", "119.92"), ("radius_km", "5")):
        if page.query_selector(f"#q-{name}"):
            page.fill(f"#q-{name}", value)
    for name, value in (("start", "2026-01-01T00:00"), ("end", "2026-12-31T23:59")):
        if page.query_selector(f"#q-{name}"):
            page.fill(f"#q-{name}", value)
    page.click("#query-run")
    page.wait_for_selector("#case-id")
    page.fill("#case-id", e2e := server.open_case("analyst", "E2E 车案关联", "theft"))
    page.click("#case-ok")
    page.wait_for_selector("#query-count, #query-error")
    assert page.query_selector("#query-error") is None, page.inner_text("#query-error")
    shot(page, "analyst")
    with server.api("auditor") as c:
        recs = c.get("/audit/records", params={"actor": "analyst1", "limit": 5},
                     headers=server.review_headers()).json()["records"]
    assert any(r["case_id"] == e2e for r in recs)


def test_supervisor_rates_the_risk_grid_and_plans_posts(page: Any, server: Server, login: Login) -> None:
    if "/patrol/risk-grid" not in _paths(server):
        pytest.skip("the patrol API (/api/v1/patrol/...) is not on this server yet")
    new_incident(server, 32.4860, 119.9120, "fight")
    login(page, "supervisor")
    page.goto(f"{server.url}/ui/#/patrol")
    page.wait_for_function("() => window.__precinctMap && window.__precinctMap.sets.get('incidents')")
    page.click("#risk-run")
    page.wait_for_selector("#risk-counts")
    counts = [int(x) for x in re.findall(r"\d+", page.inner_text("#risk-counts"))]
    assert len(counts) == 3 and sum(counts) > 0 and counts[0] + counts[1] >= 1  # the incidents' cells are rated
    page.fill("#posts-n", "2")
    page.click("#posts-run")
    page.wait_for_selector("#posts-summary")
    # two posts over a handful of demand points are solved to proven optimality, and the page says so
    assert page.get_attribute("#posts-proof", "data-optimal") == "true"
    assert page.inner_text("#posts-proof").strip() in ("已证明最优", "Proven optimal")
    assert page.evaluate("window.__precinctMap.map.hasLayer !== undefined")
    shot(page, "patrol")


def test_api_refuses_what_the_ui_hides(server: Server) -> None:
    """The UI's role rules are a mirror; the server enforces them (a call-taker cannot read audit)."""
    with server.api("call_taker") as c:
        r = c.get("/audit/records", headers={"X-Case-Id": "x1", "X-Purpose": "audit_review"})
    assert r.status_code == 403
    assert httpx.get(f"{server.url}/ui/", timeout=10).status_code == 200
