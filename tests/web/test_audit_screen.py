"""Issue 21, the auditor: the audit log read in the reader's language (zh-CN and en). What was
searched or changed (the parameters) is in the table as words: parameter names translated, lists
joined, times local, operations named, never JSON; the actions, resources, roles and purposes
translated (and every action of the filter); system actors (a hotlist hit's disclosure) hidden on
request; an empty result says what to try."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

ACTIONS = ["collection", "alteration", "consultation", "disclosure", "combination", "erasure", "login", "refusal",
           "administration"]


def _seed(server: Server, tag: str) -> tuple[str, str, str]:
    """A supervisor's reminder (op, order, recipients), an analyst's trajectory read (plate, times,
    a yes/no) and a hotlist hit (the system's disclosure); the order id, the unit and the plate."""
    unit = f"AU{tag}"
    plate = f"苏H{int(time.time() * 1000) % 100_000:05d}"
    with server.api("dispatcher") as c:
        r = c.post("/units", json={"id": unit, "unit_type": "patrol", "lat": 32.44, "lon": 119.87})
        assert r.status_code == 201, r.text
        r = c.post("/orders", json={"title": f"审计 {tag}", "recipients": [f"unit:{unit}"], "deadline_minutes": 30})
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
    with server.api("supervisor") as c:
        assert c.post(f"/orders/{oid}/remind").status_code == 200
    with server.api("analyst") as c:
        r = c.post("/anpr/hotlist", json={"entries": [{"plate": plate, "reason": "审计测试", "list": "wanted"}]})
        assert r.status_code == 201, r.text
    ts = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    with server.api("admin") as c:
        r = c.post("/anpr/reads", json=[{"plate": plate, "ts": ts.isoformat(), "lat": 32.44, "lon": 119.87,
                                         "camera_id": f"AU-CAM-{tag}"}])
        assert r.status_code == 200, r.text
    case = server.open_case("analyst", f"审计 {tag}", "theft")
    with server.api("analyst") as c:
        start = "2026-01-01T08:00:00+08:00"
        r = c.get(f"/anpr/trajectory/{plate}", params={"start": start, "end": dt.datetime.now(dt.UTC).isoformat(),
                                                       "paths": "false"},
                  headers={"X-Case-Id": case, "X-Purpose": "investigation"})
        assert r.status_code == 200, r.text
    return oid, unit, plate


def _search(page: Any, actor: str, case: str = "") -> None:
    page.fill("#audit-actor", actor)
    page.fill("#audit-case", case)
    page.uncheck("#audit-hide-system")
    page.evaluate("() => document.getElementById('audit-out').replaceChildren()")  # the last answer goes
    page.click("#audit-search")
    page.wait_for_function("() => document.querySelector('#audit-count') || document.querySelector('#audit-error')")


def _rows(page: Any) -> list[dict[str, str]]:
    return list(page.evaluate("""() => [...document.querySelectorAll('#audit-table tbody tr')].map(tr =>
        Object.fromEntries([...tr.querySelectorAll('td')].map(td => [td.dataset.col, td.textContent])))"""))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_audit_log_in_words(page: Any, server: Server, login: Callable[[Any, str], None], lang: str) -> None:
    tag = uuid.uuid4().hex[:5]
    oid, unit, plate = _seed(server, tag)
    login(page, "auditor")
    if page.evaluate("() => document.documentElement.lang") != lang:
        page.click("#lang-switch")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
    w = page.evaluate("() => window.__precinctI18n")[lang]
    page.goto(f"{server.url}/ui/#/audit")
    page.wait_for_selector("#audit-search")
    # every action of the filter in words
    options = page.eval_on_selector_all("#audit-action option", "els => els.map(e => e.textContent)")
    assert options == [w["audit.any"], *(w[f"act.{a}"] for a in ACTIONS)]
    page.fill("#audit-actor", "supervisor1")
    page.click("#audit-search")
    page.wait_for_selector("#case-id")
    page.fill("#case-id", server.open_case("auditor", f"审计抽查 {tag}", "review"))
    page.click("#case-ok")
    page.wait_for_selector("#audit-count")

    # the supervisor's reminder: what was done, to what, to whom, in words
    row = next(r for r in _rows(page) if oid in r["params"])
    assert row["params"] == f"{w['p.op']}: {w['auditop.remind']}; {w['p.order_id']}: {oid}; {w['p.to']}: unit:{unit}"
    assert row["action"] == w["act.alteration"] and row["resource"] == w["res.orders"]
    assert row["role"] == w["role.supervisor"]

    # the analyst's trajectory read: the plate, the times in local time, yes/no, the purpose
    _search(page, "analyst1")
    row = next(r for r in _rows(page) if plate in r["params"] and r["resource"] == w["res.anpr.trajectory"])
    start_local = dt.datetime.fromisoformat("2026-01-01T08:00:00+08:00").astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert f"{w['p.start']}: {start_local}" in row["params"], row
    assert f"{w['p.paths']}: {w['audit.no']}" in row["params"], row
    assert row["purpose"] == w["purpose.investigation"] and row["action"] == w["act.consultation"]
    for r in _rows(page):
        assert "{" not in r["params"] and '":' not in r["params"] and "T0" not in r["params"], r

    # a call taken (the server's warm-up call): the caller's details collected, named in words
    _search(page, "dispatcher1")
    row = next(r for r in _rows(page) if r["resource"] == w["res.calls.caller"])
    assert f"{w['p.source']}: {w['auditval.source.call']}" in row["params"], row
    assert f"{w['p.phone']}: " in row["params"] and "phone:" not in row["params"], row

    # the hotlist hit, disclosed by the system; hidden on request, and the empty view says what to try
    _search(page, "system")
    rows = _rows(page)
    hit = next(r for r in rows if plate in r["params"])
    assert hit["actor"] == w["role.system"] and hit["role"] == w["role.system"], hit
    assert hit["resource"] == w["res.anpr.alert"] and hit["action"] == w["act.disclosure"], hit
    assert hit["params"].startswith(f"{w['p.alert_id']}: ") and f"{w['p.camera']}: AU-CAM-{tag}" in hit["params"]
    assert hit["purpose"] == w["purpose.hotlist_alert"]
    page.check("#audit-hide-system")
    page.wait_for_selector("#audit-empty-hint")
    assert _rows(page) == []
    assert page.inner_text("#audit-empty-hint") == w["audit.emptyHint"]
    page.uncheck("#audit-hide-system")
    page.wait_for_selector("#audit-table tbody tr")
    # nothing found: the same guidance
    _search(page, f"nobody-{tag}")
    page.wait_for_selector("#audit-empty-hint")
    assert page.inner_text("#audit-empty-hint") == w["audit.emptyHint"]
    text = page.inner_text("#panel")
    for raw in ("res.", "auditop.", "purpose.", "act.", "p.op"):
        assert raw not in text, raw
