"""Issue 21, what the dispatcher expects: server errors in the reader's language.

A refused request (409: a unit taken out of service while it is on a job) shows, in the Chinese UI,
the dictionary's words for the server's error code and the field it names, never the server's
English sentence (that is only the tooltip where the screen has one); in the English UI the
server's sentence follows. Known answers: the error code, field and message are read from the API's
own answer to the same request on the same state, and the words from the page's dictionaries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser


def _busy_unit_refusal(server: Server, page: Any, login: Callable[[Any, str], None],
                       lang: str) -> tuple[dict[str, Any], str]:
    """Open the admin's unit table, put the unit on a job behind its back, click 'out of service'."""
    unit = f"E2E-ERR-{uuid.uuid4().hex[:6]}"
    with server.api("admin") as c:
        r = c.post("/units", json={"id": unit, "unit_type": "patrol", "lat": 32.47, "lon": 119.91})
        assert r.status_code == 201, r.text
    login(page, "admin")
    if lang == "en":
        page.click("#lang-switch")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.click("#nav a[data-view=users]")
    row = page.locator("#admin-units-table tr", has_text=unit)
    row.locator("button.admin-unit-oos").wait_for()
    with server.api("dispatcher") as c:
        r = c.post("/calls", json={"lat": 32.471, "lon": 119.911, "type": "theft", "description": "电动车被盗"})
        assert r.status_code == 201, r.text
        c.post(f"/incidents/{r.json()['incident_id']}/dispatch", json={"unit_ids": [unit]}).raise_for_status()
        # the reference: what the server answers to the very request the button will send
        ref = c.post(f"/units/{unit}/status", json={"status": "out_of_service"})
    assert ref.status_code == 409, ref.text
    row.locator("button.admin-unit-oos").click()
    toast = page.locator("#toasts .toast.error").last
    toast.wait_for()
    return ref.json(), toast.inner_text()


def test_refusal_is_in_chinese_in_the_chinese_ui(page: Any, server: Server,
                                                 login: Callable[[Any, str], None]) -> None:
    body, shown = _busy_unit_refusal(server, page, login, "zh-CN")
    zh = page.evaluate("() => window.__precinctI18n['zh-CN']")
    assert body["error"] == "conflict" and body["detail"]["field"] == "status"
    assert zh["err.conflict"] in shown
    assert zh["col.status"] in shown  # the field the server names, in the UI's words
    assert body["message"] not in shown
    assert not re.search(r"[A-Za-z]{3,}", shown), shown  # no English words at all


def test_refusal_keeps_the_server_words_in_the_english_ui(page: Any, server: Server,
                                                          login: Callable[[Any, str], None]) -> None:
    body, shown = _busy_unit_refusal(server, page, login, "en")
    en = page.evaluate("() => window.__precinctI18n.en")
    assert shown.startswith(en["err.conflict"])
    assert body["message"] in shown
    assert "409" not in shown.replace(body["message"], "")
