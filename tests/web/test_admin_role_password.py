"""The administrator changes an account's role and resets its password on the admin screen (issue
21), in Chinese and in English: the row then shows the new role in the page's language, the user's
open session is refused, the new role and the new password are what work afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

FIRST, SECOND = "e2e-first-pass-1", "e2e-second-pass-2"


def _token(server: Server, name: str, password: str) -> str | None:
    r = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": name, "password": password}, timeout=60)
    return str(r.json()["access_token"]) if r.status_code == 200 else None


def _me(server: Server, token: str) -> httpx.Response:
    return httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=60)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_admin_changes_role_and_resets_password(page: Any, server: Server, login: Callable[[Any, str], None],
                                                lang: str) -> None:
    name = f"e2erp{lang[:2]}{uuid.uuid4().hex[:6]}"
    with server.api("admin") as c:
        r = c.post("/users", json={"username": name, "role": "dispatcher", "password": FIRST})
        assert r.status_code == 201, r.text
    token = _token(server, name, FIRST)
    assert token and _me(server, token).json()["role"] == "dispatcher"

    login(page, "admin")
    if page.evaluate("() => document.documentElement.lang") != lang:
        page.click("#lang-switch")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
    words = page.evaluate("() => window.__precinctI18n")[lang]
    page.click("#nav a[data-view=users]")
    row = page.locator("#admin-users-table tr", has_text=name)
    row.wait_for()
    assert row.locator("button.admin-role").inner_text() == words["admin.changeRole"]

    # role: dispatcher -> analyst; the open session ends, a new login has the new role
    row.locator("button.admin-role").click()
    page.wait_for_selector("#admin-role-form")
    assert page.eval_on_selector("#admin-edit-role", "s => s.value") == "dispatcher"
    assert words["admin.endsSessions"] in page.inner_text("#admin-role-form")
    page.select_option("#admin-edit-role", "analyst")
    page.click("#admin-role-save")
    page.wait_for_function("([n, w]) => [...document.querySelectorAll('#admin-users-table tr')]"
                           ".some(tr => tr.textContent.includes(n) && tr.textContent.includes(w))",
                           arg=[name, words["role.analyst"]])
    assert not page.locator("#admin-role-form").count()
    assert _me(server, token).status_code == 401
    token = _token(server, name, FIRST)
    assert token and _me(server, token).json()["role"] == "analyst"

    # password: reset on the screen; the session ends, only the new password logs in
    page.locator("#admin-users-table tr", has_text=name).locator("button.admin-pass").click()
    page.wait_for_selector("#admin-pass-form")
    assert words["admin.passwordOf"].replace("{user}", name) in page.inner_text("#admin-pass-form")
    page.fill("#admin-edit-pass", SECOND)
    page.click("#admin-pass-save")
    page.wait_for_function("() => !document.querySelector('#admin-pass-form')")
    assert _me(server, token).status_code == 401
    assert _token(server, name, FIRST) is None and _token(server, name, SECOND) is not None
    with server.api("auditor") as c:
        recs = c.get("/audit/records", params={"actor": "admin1", "limit": 50},
                     headers=server.review_headers()).json()["records"]
    mine = [r for r in recs if name in str(r.get("params"))]
    assert {"role", "password_reset"} <= {(r.get("params") or {}).get("op") for r in mine}
    assert all(SECOND not in str(r) for r in mine)
    text = page.inner_text("#panel")
    assert "admin." not in text and "role." not in text


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_user_changes_own_password_from_the_header(page: Any, server: Server, lang: str) -> None:
    name = f"e2eown{lang[:2]}{uuid.uuid4().hex[:6]}"
    with server.api("admin") as c:
        assert c.post("/users", json={"username": name, "role": "call_taker", "password": FIRST}).status_code == 201
    other = _token(server, name, FIRST)  # a second session (another terminal)
    assert other
    page.goto(f"{server.url}/ui/")
    page.fill("#login-username", name)
    page.fill("#login-password", FIRST)
    page.click("#login-submit")
    page.wait_for_selector("#whoami")
    if page.evaluate("() => document.documentElement.lang") != lang:
        page.click("#lang-switch")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
    words = page.evaluate("() => window.__precinctI18n")[lang]
    page.click("#change-password")
    page.wait_for_selector("#password-form")
    assert words["account.changePassword"] in page.inner_text("#password-form")
    page.fill("#pw-current", FIRST)
    page.fill("#pw-new", SECOND)
    page.fill("#pw-again", SECOND + "x")
    page.click("#pw-ok")
    page.wait_for_function("(w) => document.querySelector('#pw-error').textContent === w",
                           arg=words["account.mismatch"])
    page.fill("#pw-again", SECOND)
    page.click("#pw-ok")
    page.wait_for_function("() => !document.querySelector('#password-dialog')")
    assert _me(server, other).status_code == 401  # the other session ended
    assert _token(server, name, FIRST) is None and _token(server, name, SECOND) is not None
    assert page.locator("#whoami").count() == 1  # this one goes on
