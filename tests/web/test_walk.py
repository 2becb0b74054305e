"""Issue 21, the walk: every role, every screen, both languages, at 1920×1080 and at 390×844.
Screens are reached by clicking, as a user does: a screen in a group of the grouped navigation
(nav.ts) through its group's button and then its link in the group's row; a screen with tabs (the
analyst's queries) has each tab checked too.

On each screen it fails on
- a visible raw i18n key (any key of the locale files shown as text, e.g. ``board.title``),
- an untranslated server code (``en_route``, ``out_of_service``…; in Chinese also ``new``,
  ``dispatched``…),
- a native date/time input (its format follows the browser's locale: mm/dd/yyyy AM/PM),
- an interactive element (button, link, field) that, scrolled into view, is still outside the
  viewport or under something else (clipped by its container, covered by a panel).

One server and one browser for the whole walk (the session fixtures); one browser context per
role and screen size; the language is switched with the dashboard's own button.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.web.server import Server
from tests.web.test_dashboard import make_units

pytestmark = pytest.mark.browser

Login = Callable[[Any, str], None]
ROLES = ("call_taker", "dispatcher", "patrol", "analyst", "supervisor", "auditor", "admin")
VIEWPORTS = ((1920, 1080), (390, 844))
# Server codes never shown as they are: in Chinese none of them; in English the ones that are not words.
CODES_ZH = (r"new|en_route|on_scene|out_of_service|off_duty|available|dispatched|cleared|acknowledged|merged|closed|"
            r"refused|bad_password|unknown_user|throttled")
CODES_EN = (r"en_route|on_scene|out_of_service|off_duty|unit_cleared|call_added|priority_changed|no_crime|false_alarm|"
            r"bad_password|unknown_user")

CHECK = """([keys, codes]) => {
  const keySet = new Set(keys);
  const text = document.body.innerText;
  const raw = new Set();
  for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9_]*(?:\\.[A-Za-z0-9_]+)+/g)) if (keySet.has(m[0])) raw.add(m[0]);
  const codeRe = new RegExp(`(?<![\\\\w./:-])(${codes})(?![\\\\w./-])`, 'g');
  const untranslated = [...new Set([...text.matchAll(codeRe)].map(m => m[1]))];
  const cls = (el) => typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
  const desc = (el) => el ? `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls(el)}` +
      (el.textContent && el.textContent.trim() ? `("${el.textContent.trim().slice(0, 24)}")` : '') : 'nothing';
  const visible = (el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden';
  const nativeDates = [...document.querySelectorAll('input[type=date], input[type=datetime-local], input[type=time]')]
      .filter(visible).map(desc);
  const outside = [];
  const els = [...document.querySelectorAll('button, a[href], input:not([type=hidden]), select, textarea')]
      .filter(visible);
  for (const el of els.slice(0, 400)) {
    el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    // A container the user cannot scroll (overflow hidden) that had to be scrolled: clipped.
    let clipped = null;
    for (let a = el.parentElement; a; a = a.parentElement) {
      const cs = getComputedStyle(a);
      const fixedX = /hidden|clip/.test(cs.overflowX), fixedY = /hidden|clip/.test(cs.overflowY);
      if ((fixedX && a.scrollLeft > 0) || (fixedY && a.scrollTop > 0)) {
        clipped = a; a.scrollLeft = 0; a.scrollTop = 0; break;
      }
    }
    if (clipped && !clipped.classList.contains('leaflet-container')) {
      outside.push(`${desc(el)} clipped by ${desc(clipped).slice(0, 60)}`);
      continue;
    }
    const off = r.left < -1 || r.right > innerWidth + 1 || r.top < -1 || r.bottom > innerHeight + 1;
    let hit = null, covered = false;
    if (!off) {
      hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      covered = !hit || !(el.contains(hit) || hit.contains(el) || [...(el.labels || [])].some(l => l.contains(hit)));
      if (hit && hit.closest('#toasts, #red-banner')) covered = false;  // passing notices
    }
    if (off || covered) {
      outside.push(`${desc(el)} ${off ? 'outside the viewport' : 'under ' + desc(hit)} at ` +
        `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}]`);
    }
  }
  window.scrollTo(0, 0);
  return { raw: [...raw], untranslated, nativeDates, outside };
}"""


@pytest.fixture(scope="module")
def night(server: Server) -> Iterator[None]:
    """Statuses on every screen: an overdue call, a dispatched unit, a unit out of service."""
    make_units(server)
    with server.api("dispatcher") as c:
        late = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).isoformat()
        for kind in ("theft", "fight", "homicide"):
            r = c.post("/calls", json={"lat": 32.4925, "lon": 119.9225, "type": kind, "received_at": late,
                                       "description": "walk"})
            assert r.status_code == 201, r.text
        c.post(f"/incidents/{r.json()['incident_id']}/dispatch", json={"unit_ids": ["P-01"]})
        c.post("/units/P-03/status", json={"status": "out_of_service"})
        r = c.post("/orders", json={"title": "walk order", "body": "check the east bridge", "recipients": ["unit:P-01"],
                                    "deadline_minutes": 30})
    with server.api("supervisor") as c:  # a reminder on it: the orders screens say who, by whom, when
        c.post(f"/orders/{r.json()['id']}/remind")
    yield
    with server.api("dispatcher") as c:
        c.post("/units/P-03/status", json={"status": "available"})


def _open(page: Any, view: str) -> str:
    """Reach a screen as a user does, by clicking: its top-row link, or its group's button first and
    then its link in the group's row (the navigation is grouped, nav.ts). Returns how it was reached."""
    link = f"#nav a[data-view='{view}']"
    group = page.eval_on_selector(link, "a => a.closest('.nav-sub')?.id ?? ''").removeprefix("nav-sub-")
    if group and not page.is_visible(link):
        page.click(f"#nav-group-{group}")
        page.wait_for_selector(link, state="visible")
    page.click(link)
    page.wait_for_selector(f"{link}.active[aria-current=page]")
    page.wait_for_selector(f"#panel[data-view='{view}']", state="attached")
    return group


def _check(page: Any, keys: list[str], lang: str) -> list[str]:
    res = page.evaluate(CHECK, [keys, CODES_ZH if lang == "zh-CN" else CODES_EN])
    return [f"raw key {k}" for k in res["raw"]] + [f"untranslated {c}" for c in res["untranslated"]] + \
        [f"native date input {d}" for d in res["nativeDates"]] + res["outside"]


def _walk(page: Any, server: Server, size: tuple[int, int]) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Every screen of the role (each sub-screen of a group reached through its group) and each tab
    of a screen that has tabs (the analyst's queries), in both languages; the problems found, and
    the screens walked per group ("" for the top row's own links)."""
    found: dict[str, list[str]] = {}
    walked: dict[str, set[str]] = {}
    dicts = page.evaluate("() => window.__precinctI18n")
    keys = sorted(set(dicts["en"]) | set(dicts["zh-CN"]))
    views = page.eval_on_selector_all("#nav a", "els => els.map(e => e.dataset.view)")
    for lang in ("zh-CN", "en"):
        if page.evaluate("() => document.documentElement.lang") != lang:
            page.click("#lang-switch")
            page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
        for view in views:
            walked.setdefault(_open(page, view), set()).add(view)
            page.wait_for_timeout(600)  # the screen's first answers (the stream never idles)
            where = f"{view} {lang} {size[0]}x{size[1]}"
            problems = _check(page, keys, lang)
            if problems:
                found[where] = problems
            tabs = page.eval_on_selector_all("#panel .tabs > button",
                                             "els => els.map(e => e.dataset.kind || e.textContent)")
            for i, tab in enumerate(tabs):
                page.click(f"#panel .tabs > button >> nth={i}")
                page.wait_for_function("(i) => document.querySelectorAll('#panel .tabs > button')[i]"
                                       "?.classList.contains('active')", arg=i)
                page.wait_for_timeout(150)
                problems = _check(page, keys, lang)
                if problems:
                    found[f"{where} tab {tab}"] = problems
    return found, walked


@pytest.mark.parametrize("role", ROLES)
def test_walk_every_screen(browser: Any, server: Server, login: Login, night: None, role: str) -> None:
    found: dict[str, list[str]] = {}
    for size in VIEWPORTS:
        ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="en-US")
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda e, errs=errors: errs.append(str(e)))
        try:
            page.goto(f"{server.url}/ui/")
            page.evaluate("() => localStorage.setItem('precinct.lang', 'zh-CN')")
            login(page, role)
            screens = page.eval_on_selector_all("#nav a", "els => els.map(e => e.dataset.view)")
            groups = dict(page.eval_on_selector_all(".nav-sub", "els => els.map(e => [e.id.replace('nav-sub-', ''),"
                                                    " [...e.querySelectorAll('a')].map(a => a.dataset.view)])"))
            problems, walked = _walk(page, server, size)
            found.update(problems)
            # every screen walked, each grouped one through its own group
            assert sorted(v for vs in walked.values() for v in vs) == sorted(screens), (walked, screens)
            assert {g: sorted(vs) for g, vs in walked.items() if g} == {g: sorted(vs) for g, vs in groups.items()}
        finally:
            ctx.close()
        assert not errors, f"JavaScript errors on {role}'s screens: {errors}"
    report = "\n".join(f"  {where}: {'; '.join(p)}" for where, p in found.items())
    assert not found, f"{role}'s screens:\n{report}"


def test_walk_finds_what_it_looks_for(page: Any, server: Server, login: Login) -> None:
    """The walk's check itself: a raw key, a raw code, a native date input and a clipped button
    put on a screen are all reported."""
    login(page, "auditor")
    page.wait_for_selector("#audit-search")
    page.evaluate("""() => { const p = document.getElementById('panel');
        p.insertAdjacentHTML('beforeend', '<p>board.title en_route</p><input type=datetime-local>' +
          '<div style="overflow:hidden;width:40px"><button id=far style="margin-left:300px">x</button></div>' +
          '<button id=gone style="position:fixed;left:4000px;top:10px">y</button>'); }""")
    dicts = page.evaluate("() => window.__precinctI18n")
    res = page.evaluate(CHECK, [sorted(dicts["en"]), CODES_ZH])
    assert res["raw"] == ["board.title"] and res["untranslated"] == ["en_route"]
    assert len(res["nativeDates"]) == 1
    assert any("button#far" in o and "clipped" in o for o in res["outside"]), res["outside"]
    assert any("button#gone" in o and "outside" in o for o in res["outside"]), res["outside"]
