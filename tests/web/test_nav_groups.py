"""Issue 21, fewer tabs: the top navigation grouped by role task.

Per role: fewer top-level items than screens (a supervisor had 15 flat tabs), every screen still
reachable from the navigation by clicking (zh-CN and en), the group buttons and screen links in the
reader's language, the keyboard (Enter, ↓, →) enough, every route `#/<key>` still opening its screen,
and nothing outside the viewport at 390×844 whichever group is open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

Login = Callable[[Any, str], None]
ROLES = ("call_taker", "dispatcher", "patrol", "analyst", "supervisor", "auditor", "admin")
MANY = ("dispatcher", "analyst", "supervisor", "admin")  # the roles with more than 4 screens

TOP = "#nav-top > a, #nav-top > button"
OUTSIDE = """() => [...document.querySelectorAll('#nav a, #nav button')]
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .map(e => [e.dataset.view || e.id, e.getBoundingClientRect()])
  .filter(([, r]) => r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1)
  .map(([k, r]) => `${k} at ${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.right)}`)"""


def _screens(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#nav a", "els => els.map(e => e.dataset.view)"))


def _top(page: Any) -> list[str]:
    return list(page.eval_on_selector_all(TOP, "els => els.map(e => e.dataset.view || e.dataset.group)"))


def _open(page: Any, view: str) -> None:
    """Reach a screen by clicking as a user would: its link, or its group's button first."""
    link = f"#nav a[data-view='{view}']"
    if not page.is_visible(link):
        sub = page.eval_on_selector(link, "a => a.closest('.nav-sub').id")
        page.click(f"#nav-group-{sub.removeprefix('nav-sub-')}")
        page.wait_for_selector(link, state="visible")
    page.click(link)
    page.wait_for_selector(f"#nav a[data-view='{view}'].active[aria-current=page]")
    page.wait_for_selector(f"#panel[data-view='{view}']", state="attached")


def _switch(page: Any, lang: str) -> None:
    if page.evaluate("() => document.documentElement.lang") != lang:
        page.click("#lang-switch")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


@pytest.mark.parametrize("role", ROLES)
def test_fewer_top_level_items_and_every_screen_reachable(page: Any, server: Server, login: Login,
                                                          role: str) -> None:
    login(page, role)
    screens = _screens(page)
    top = _top(page)
    assert len(set(screens)) == len(screens) and screens
    assert len(top) <= len(screens)
    if role in MANY:
        assert len(top) < len(screens), (top, screens)
        assert len(top) <= 8, top
    if role == "supervisor":  # 15 flat tabs before
        assert len(screens) >= 15 and len(top) <= len(screens) // 2 + 1, (top, screens)
    # the groups hold every screen that is not a top-level link, once
    in_groups = page.eval_on_selector_all(".nav-sub a", "els => els.map(e => e.dataset.view)")
    links = page.eval_on_selector_all("#nav-top > a", "els => els.map(e => e.dataset.view)")
    assert sorted([*in_groups, *links]) == sorted(screens)
    dicts = page.evaluate("() => window.__precinctI18n")
    for lang in ("zh-CN", "en"):
        _switch(page, lang)
        d = dicts[lang]
        for btn in page.query_selector_all("#nav-top > button.nav-group"):
            assert btn.inner_text().strip() == d[f"navg.{btn.get_attribute('data-group')}"]
        for view in screens:
            _open(page, view)
            assert page.inner_text(f"#nav a[data-view='{view}']") == d[f"nav.{view}"]
            group = page.eval_on_selector(f"#nav a[data-view='{view}']", "a => a.closest('.nav-sub')?.id ?? ''")
            if group:  # its group is marked and open
                g = group.removeprefix("nav-sub-")
                assert page.get_attribute(f"#nav-group-{g}", "aria-expanded") == "true"
                assert "active" in (page.get_attribute(f"#nav-group-{g}", "class") or "")


def test_routes_keyboard_and_remembered_screen(page: Any, server: Server, login: Login) -> None:
    login(page, "supervisor")
    # a route opens its screen and the group it belongs to
    page.goto(f"{server.url}/ui/#/audit")
    page.wait_for_selector("#nav a[data-view=audit].active")
    assert page.get_attribute("#nav-group-supervision", "aria-expanded") == "true"
    assert page.is_hidden("#nav-sub-analysis")
    for key in ("board", "analytics", "cases", "map", "users"):
        page.goto(f"{server.url}/ui/#/{key}")
        page.wait_for_selector(f"#nav a[data-view='{key}'].active", state="visible")
    # keyboard: a group button with Enter opens the screen last used in the group (analytics, by its
    # route above), ↓ goes to that screen's link, → to the next one, Enter opens it
    page.focus("#nav-group-analysis")
    page.keyboard.press("Enter")
    first = "analytics"
    page.wait_for_selector(f"#nav a[data-view='{first}'].active")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.dataset.view") == first
    page.keyboard.press("ArrowRight")
    second = page.evaluate("() => document.activeElement.dataset.view")
    assert second and second != first
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#nav a[data-view='{second}'].active")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("() => document.activeElement.id") == "nav-group-analysis"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.closest('#nav-top') !== null")
    # another group, then back: the group button reopens the screen last used in it
    page.click("#nav-group-command")
    page.wait_for_selector("#nav-sub-command:not([hidden])")
    page.click("#nav-group-analysis")
    page.wait_for_selector(f"#nav a[data-view='{second}'].active")


@pytest.mark.parametrize("role", ("supervisor", "admin", "dispatcher"))
def test_phone_width_every_group_inside_the_viewport(browser: Any, server: Server, login: Login,
                                                     role: str) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        login(page, role)
        for lang in ("zh-CN", "en"):
            _switch(page, lang)
            groups = page.eval_on_selector_all("#nav-top > button.nav-group", "els => els.map(e => e.dataset.group)")
            assert groups
            for g in groups:
                page.click(f"#nav-group-{g}")
                page.wait_for_selector(f"#nav-sub-{g}:not([hidden])")
                assert page.evaluate(OUTSIDE) == [], (lang, g)
                # the header does not take the phone's screen: the panel starts in its top third
                top = page.evaluate("() => document.getElementById('panel').getBoundingClientRect().top")
                assert top < 844 / 3, top
    finally:
        ctx.close()
    assert not errors, errors
