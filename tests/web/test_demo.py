"""The dashboard on ``precinct demo``: the living city feeds the board, units move on the map."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.web.conftest import shot
from tests.web.server import DemoUnavailable, Server, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Server]:
    from tests.web.server import WEB_DIST

    if not (WEB_DIST / "index.html").exists():
        pytest.skip("dashboard bundle not built")
    try:
        with running_server(tmp_path_factory.mktemp("demo"), use_demo=True, timeout=150) as srv:
            yield srv
    except DemoUnavailable as exc:
        pytest.skip(str(exc))


def test_demo_board_fills_and_units_move(demo: Server, page: Any) -> None:
    assert "dispatcher" in demo.logins, "the demo printed no dispatcher login"
    user, password = demo.logins["dispatcher"]
    page.goto(f"{demo.url}/ui/")
    page.fill("#login-username", user)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_selector("#live-indicator[data-state=live]", timeout=60_000)
    # The simulation's calls reach the board, and its units report positions.
    page.wait_for_selector("#incident-table tbody tr", timeout=120_000)
    page.wait_for_function(
        "() => window.__precinctMap && (window.__precinctMap.sets.get('units') || {rows: []}).rows.length > 0",
        timeout=120_000)
    first = page.evaluate("JSON.stringify(window.__precinctMap.sets.get('units').rows.map(r => [r.id, r.lat, r.lon]))")
    page.wait_for_function(
        "prev => JSON.stringify(window.__precinctMap.sets.get('units').rows.map(r => [r.id, r.lat, r.lon])) !== prev",
        arg=first, timeout=120_000)
    shot(page, "demo-board")
    page.goto(f"{demo.url}/ui/#/map")
    page.wait_for_timeout(1500)
    shot(page, "demo-map")
