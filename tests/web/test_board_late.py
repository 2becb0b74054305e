"""Late units in the board LIST (issue 19): an incident whose dispatched unit has not acknowledged
within PRECINCT_ACK_LATE_S carries a badge in its row, naming the unit; an acknowledged unit never
does, and the badge goes when the late unit acknowledges.

A server of its own, started with a 2-second threshold (the session's shared server keeps the
default, so no other test sees a changed setting). Known answers: which units are late is read from
the server's ``/board`` rows (``late``), not from the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.web.server import WEB_DIST, Server, running_server

pytestmark = pytest.mark.browser
LATE_S = 2


@pytest.fixture(scope="module")
def late_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not (WEB_DIST / "index.html").exists():
        pytest.skip("dashboard bundle not built")
    mp = pytest.MonkeyPatch()
    mp.setenv("PRECINCT_ACK_LATE_S", str(LATE_S))  # read by this server process only
    try:
        with running_server(tmp_path_factory.mktemp("late")) as srv:
            mp.undo()
            yield srv
    finally:
        mp.undo()


def _board_row(c: httpx.Client, incident: str) -> dict[str, Any]:
    return next(i for i in c.get("/board").json()["incidents"] if i["id"] == incident)


def _incident(c: httpx.Client, lat: float, lon: float, unit: str) -> str:
    r = c.post("/calls", json={"lat": lat, "lon": lon, "type": "theft", "description": "电动车被盗"})
    assert r.status_code == 201, r.text
    inc = str(r.json()["incident_id"])
    c.post(f"/incidents/{inc}/dispatch", json={"unit_ids": [unit]}).raise_for_status()
    return inc


def test_late_unit_badge_in_the_board_row(late_server: Server, browser: Any) -> None:
    srv = late_server
    with srv.api("dispatcher") as c:
        for uid, lat in (("L-01", 32.480), ("L-02", 32.482)):
            r = c.post("/units", json={"id": uid, "unit_type": "patrol", "lat": lat, "lon": 119.90})
            assert r.status_code == 201, r.text
        late = _incident(c, 32.481, 119.901, "L-01")  # dispatched before the board opens
        acked = _incident(c, 32.483, 119.902, "L-02")
        c.post(f"/incidents/{acked}/acknowledge", json={"unit_id": "L-02"}).raise_for_status()
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        user, password = srv.logins["dispatcher"]
        pg.goto(f"{srv.url}/ui/")
        pg.fill("#login-username", user)
        pg.fill("#login-password", password)
        pg.click("#login-submit")
        pg.wait_for_selector("#whoami")
        pg.goto(f"{srv.url}/ui/#/board")
        pg.wait_for_selector(f"#incident-table tr[data-id='{acked}']")
        badge = f"#incident-table tr[data-id='{late}'] .row-late"
        pg.wait_for_selector(badge)  # shown once the 2 s have passed (the row is rechecked each second)
        with srv.api("dispatcher") as c:
            truth = {i: [a["unit_id"] for a in _board_row(c, i)["units"] if a["late"]] for i in (late, acked)}
        assert truth == {late: ["L-01"], acked: []}
        assert pg.get_attribute(badge, "data-late") == "L-01"
        assert "L-01" in pg.inner_text(badge) and pg.get_attribute(badge, "title") == "超时未签收"
        assert pg.query_selector(f"#incident-table tr[data-id='{acked}'] .row-late") is None
        # a second late dispatch while the board is open (its row arrives by the live stream)
        with srv.api("dispatcher") as c:
            r = c.post("/units", json={"id": "L-03", "unit_type": "patrol", "lat": 32.484, "lon": 119.90})
            assert r.status_code == 201, r.text
            live = _incident(c, 32.485, 119.903, "L-03")
        pg.wait_for_selector(f"#incident-table tr[data-id='{live}'] .row-late[data-late='L-03']")
        # the late unit acknowledges: its badge goes
        with srv.api("dispatcher") as c:
            c.post(f"/incidents/{late}/acknowledge", json={"unit_id": "L-01"}).raise_for_status()
            assert not any(a["late"] for a in _board_row(c, late)["units"])
        pg.wait_for_selector(badge, state="detached")
        assert pg.query_selector(f"#incident-table tr[data-id='{live}'] .row-late") is not None
    finally:
        ctx.close()
    assert not errors, errors

