"""Browser fixtures: one real Precinct server and one headless Chromium per test session (an
xdist worker tears module fixtures down whenever it runs out of queued tests, so these are
session-scoped: one server start per worker, not one per test)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.server import CHROMIUM_ARGS, WEB_DIST, Server, chromium_path, running_server

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _skip_or_fail(reason: str) -> None:
    # In CI the bundle must exist (./dev test builds it); locally a missing one is a skip.
    if os.environ.get("CI") and "chromium" not in reason:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not (WEB_DIST / "index.html").exists():
        _skip_or_fail("dashboard bundle not built: run ./dev test (or npm ci && npm run build in src/precinct/web)")
    with running_server(tmp_path_factory.mktemp("web")) as srv:
        _warm_up(srv)
        yield srv


def _warm_up(srv: Server) -> None:
    """Load the city and compile the routing kernels before any browser waits on them."""
    with srv.api("dispatcher") as c:
        r = c.post("/units", json={"id": "W-00", "unit_type": "patrol", "lat": 32.47, "lon": 119.89})
        assert r.status_code == 201, r.text
        r = c.post("/calls", json={"lat": 32.471, "lon": 119.891, "type": "theft", "description": "warm-up"})
        assert r.status_code == 201, r.text
        c.get(f"/incidents/{r.json()['incident_id']}/recommendations").raise_for_status()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        _skip_or_fail("no /usr/bin/chromium (Debian's chromium package); ./dev test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def login(server: Server) -> Callable[..., None]:
    def _login(pg: Any, role: str, lang: str = "zh-CN") -> None:
        user, password = server.logins[role]
        pg.goto(f"{server.url}/ui/")
        if lang == "en":
            pg.click("#lang-switch")
        pg.fill("#login-username", user)
        pg.fill("#login-password", password)
        pg.click("#login-submit")
        pg.wait_for_selector("#whoami")
    return _login


def shot(pg: Any, name: str) -> None:
    """Save a screenshot of a main screen into docs/screenshots (when PRECINCT_SCREENSHOTS=1)."""
    if os.environ.get("PRECINCT_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"{name}.png"))
