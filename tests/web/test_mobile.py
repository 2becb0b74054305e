"""The patrol officer's terminal (移动警务通, /m/) on an emulated phone (390×844, touch) in headless
Chromium against a real Precinct server: a dispatch pushed while the page is open, one tap per step,
steps taken offline queued and sent once when the connection returns; the app is installable.

Each test drives the phone and then checks the server's state through the API.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.web.conftest import shot
from tests.web.server import Server

pytestmark = pytest.mark.browser

UNIT = "P-01"  # the patrol test user's unit (tests/web/server.py)


@pytest.fixture
def phone(browser: Any, server: Server) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                              has_touch=True, locale="zh-CN", service_workers="allow")
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def _free_unit(server: Server) -> None:
    """P-01 exists, has no active assignment left by another test, and is available."""
    with server.api("dispatcher") as c:
        r = c.post("/units", json={"id": UNIT, "unit_type": "patrol", "callsign": "巡1",
                                   "lat": 32.4905, "lon": 119.9205})
        assert r.status_code == 201, r.text
        for inc in c.get("/board").json()["incidents"]:
            if any(a["unit_id"] == UNIT and a["status"] != "cleared" for a in inc["units"]):
                c.post(f"/incidents/{inc['id']}/clear", json={"unit_id": UNIT}).raise_for_status()
        c.post(f"/units/{UNIT}/status", json={"status": "available"})


def _login(pg: Any, server: Server) -> None:
    user, password = server.logins["patrol"]
    pg.goto(f"{server.url}/m/")
    pg.wait_for_selector("#m-username", timeout=90_000)  # a loaded machine (shared CI) can be slow here
    pg.fill("#m-username", user)
    pg.fill("#m-password", password)
    pg.tap("#m-login")
    pg.wait_for_selector("#m-incidents")
    pg.wait_for_selector("body[data-live='1']")  # the board stream is open


def _history(server: Server, incident: str) -> list[dict[str, Any]]:
    with server.api("dispatcher") as c:
        body = c.get(f"/incidents/{incident}").json()
    return [h for h in body["history"] if h.get("unit_id") == UNIT]


def test_dispatch_pushed_acknowledged_and_steps_sent_once_after_offline(phone: Any, server: Server) -> None:
    _free_unit(server)
    _login(phone, server)
    sent: list[tuple[str, str | None]] = []
    phone.on("request", lambda r: sent.append((r.url, r.headers.get("idempotency-key")))
             if r.method == "POST" and "/incidents/" in r.url else None)
    with server.api("call_taker") as c:
        r = c.post("/calls", json={"lat": 32.4921, "lon": 119.9221, "type": "theft",
                                   "description": "手机被盗 phone stolen"})
        assert r.status_code == 201, r.text
        incident = r.json()["incident_id"]
    with server.api("dispatcher") as c:  # pushed while the page is open: it arrives by the stream
        c.post(f"/incidents/{incident}/dispatch", json={"unit_ids": [UNIT]}).raise_for_status()
    card = f"[data-incident='{incident}']"
    phone.wait_for_selector(f"{card}[data-status='dispatched']")
    assert phone.evaluate("document.body.dataset.alert") == "1"  # the new-dispatch alert fired (sound/vibration)
    # Where: the incident on the map over Precinct's own road network, and a link to navigation.
    assert int(phone.get_attribute("#m-map[data-roads]", "data-roads")) > 0
    assert phone.get_attribute(f"{card} a.nav", "href") == "geo:32.4921,119.9221?q=32.4921,119.9221"
    shot(phone, "mobile-dispatch")
    phone.tap(f"{card} button[data-step=acknowledge]")  # one tap
    phone.wait_for_selector(f"{card}[data-status='en_route'] button[data-step=arrive]")
    phone.wait_for_function("() => !document.querySelector('#m-queue')")

    phone.context.set_offline(True)
    phone.wait_for_selector("#net.offline")
    phone.tap(f"{card} button[data-step=arrive]")
    phone.wait_for_selector("#m-queue li")  # the screen shows what is waiting
    assert phone.locator("#m-queue li").count() == 1
    shot(phone, "mobile-offline-queue")
    assert [h["kind"] for h in _history(server, incident)].count("arrived") == 0  # nothing reached the server

    phone.context.set_offline(False)
    phone.wait_for_function("() => !document.querySelector('#m-queue')", timeout=30_000)
    phone.wait_for_selector(f"{card}[data-status='on_scene'] button[data-step=clear]")
    with server.api("dispatcher") as c:  # the dispatcher's board shows the unit on scene
        board = {i["id"]: i for i in c.get("/board").json()["incidents"]}
    assert [a["status"] for a in board[incident]["units"] if a["unit_id"] == UNIT] == ["on_scene"]
    kinds = [h["kind"] for h in _history(server, incident)]
    assert kinds.count("acknowledged") == 1 and kinds.count("arrived") == 1, kinds
    # Every POST carried an idempotency key, and a key was never used for two different steps.
    keys: dict[str, set[str]] = {}
    for url, key in sent:
        assert key, url
        keys.setdefault(key, set()).add(url)
    assert all(len(urls) == 1 for urls in keys.values())
    shot(phone, "mobile-on-scene")

    phone.select_option(f"{card} select[data-field=disposition]", index=1)
    phone.tap(f"{card} button[data-step=clear]")
    phone.wait_for_selector(card, state="detached")
    with server.api("dispatcher") as c:
        inc = c.get(f"/incidents/{incident}").json()
    assert [a["status"] for a in inc["units"] if a["unit_id"] == UNIT] == ["cleared"]
    assert [h["kind"] for h in _history(server, incident)].count("cleared") <= 1


def test_order_acknowledged_from_the_phone(phone: Any, server: Server) -> None:
    if "/orders" not in server.paths():
        pytest.skip("no orders on this server")
    _free_unit(server)
    _login(phone, server)
    with server.api("dispatcher") as c:
        r = c.post("/orders", json={"title": "布控 checkpoint", "body": "东门路口设卡", "recipients": [UNIT],
                                    "deadline_minutes": 15, "priority": "red"})
        assert r.status_code == 201, r.text
        order = r.json()["id"]
    phone.wait_for_selector(f"[data-order='{order}'] button[data-step=ack-order]")
    phone.tap(f"[data-order='{order}'] button[data-step=ack-order]")
    phone.wait_for_selector(f"[data-order='{order}'] button[data-step=ack-order]", state="detached")
    phone.wait_for_function("() => !document.querySelector('#m-queue')")
    with server.api("dispatcher") as c:
        rcpt = [x for x in c.get(f"/orders/{order}").json()["recipients"] if x["recipient"] == f"unit:{UNIT}"]
    assert rcpt and rcpt[0]["acknowledged_at"]


def test_manifest_and_service_worker_make_it_installable(phone: Any, server: Server) -> None:
    from PIL import Image

    phone.goto(f"{server.url}/m/")
    href = phone.get_attribute("link[rel=manifest]", "href")
    m = httpx.get(f"{server.url}{href}", timeout=30).json()
    assert m["start_url"] == "/m/" and m["scope"] == "/m/"
    assert m["display"] in ("standalone", "fullscreen", "minimal-ui")
    assert m["name"] and m["short_name"]
    sizes = {}
    for icon in m["icons"]:
        r = httpx.get(f"{server.url}{icon['src']}", timeout=30)
        assert r.status_code == 200, icon
        if icon["type"] == "image/png":
            im = Image.open(io.BytesIO(r.content))
            assert f"{im.width}x{im.height}" == icon["sizes"]
            sizes[icon["sizes"]] = True
    assert {"192x192", "512x512"} <= set(sizes)
    # The service worker controls /m/ and opens the shell with no connection.
    scope = phone.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{server.url}/m/"
    sw = httpx.get(f"{server.url}/m/sw.js", timeout=30)
    assert "javascript" in sw.headers["content-type"]
    phone.reload()
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")
    phone.context.set_offline(True)
    try:
        phone.reload()
        phone.wait_for_selector("#m-username, #m-incidents")
        assert phone.inner_text("#title") == "移动警务通"
        shot(phone, "mobile-login")
        phone.tap("#lang")  # zh-CN / English
        phone.wait_for_selector("#m-login:has-text('Log in')")
        phone.tap("#lang")
        phone.wait_for_selector("#m-login:has-text('登录')")
    finally:
        phone.context.set_offline(False)


def test_a_replayed_queue_entry_changes_nothing(server: Server) -> None:
    """What the offline queue relies on: the same Idempotency-Key sent twice (the answer was lost)
    acknowledges an order once and replays the first answer."""
    if "/orders" not in server.paths():
        pytest.skip("no orders on this server")
    _free_unit(server)
    with server.api("dispatcher") as c:
        r = c.post("/orders", json={"title": "重发检查 replay check", "body": "-", "recipients": [UNIT],
                                    "deadline_minutes": 15, "priority": "blue"})
        assert r.status_code == 201, r.text
        order = r.json()["id"]
    with server.api("patrol") as c:
        first = c.post(f"/orders/{order}/ack", json={}, headers={"Idempotency-Key": "m-replay-1"})
        again = c.post(f"/orders/{order}/ack", json={}, headers={"Idempotency-Key": "m-replay-1"})
        other = c.post(f"/orders/{order}/ack", json={"note": "x"}, headers={"Idempotency-Key": "m-replay-1"})
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    assert other.status_code == 409  # the same key for another body is refused
    with server.api("dispatcher") as c:
        hist = c.get(f"/orders/{order}").json()["history"]
    assert [h["kind"] for h in hist].count("acknowledged") == 1


def test_position_shared_only_when_switched_on(browser: Any, server: Server) -> None:
    _free_unit(server)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale="zh-CN", geolocation={"latitude": 32.4811, "longitude": 119.9102},
                              permissions=["geolocation"])
    try:
        pg = ctx.new_page()
        pg.set_default_timeout(20_000)
        _login(pg, server)
        with server.api("dispatcher") as c:
            assert abs(c.get(f"/units/{UNIT}").json()["lat"] - 32.4811) > 1e-3  # not shared before the switch
        pg.tap("#m-share")
        with server.api("dispatcher") as c:
            for _ in range(50):
                unit = c.get(f"/units/{UNIT}").json()
                if abs(unit["lat"] - 32.4811) < 1e-6:
                    break
                pg.wait_for_timeout(200)
        assert (round(unit["lat"], 6), round(unit["lon"], 6)) == (32.4811, 119.9102)
    finally:
        ctx.close()
