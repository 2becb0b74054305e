"""Issue 21: every role's dashboard loads with no request answered 4xx/5xx (the browser's own
favicon request included, reported only as a console error; it was a 404 in the demo)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("role", ["dispatcher", "supervisor", "call_taker"])
def test_pages_load_with_no_failed_request(page: Any, server: Server, login: Any, role: str, lang: str) -> None:
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: bad.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and "Failed to load resource" in m.text else None)
    login(page, role, lang)
    page.wait_for_timeout(2500)
    assert not bad, bad
