"""A supervisor's reminder (催办, issue 21) reaches the patrol phone of a unit that has not
acknowledged the order: pushed by the board stream while the page is open, the phone alerts and the
order's card says who reminded and when, in the phone's language; acknowledging then works as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.web.server import Server

pytestmark = pytest.mark.browser

UNIT = "P-01"  # the patrol test user's unit (tests/web/server.py)
WORDS = {"zh-CN": "督察催办", "en-US": "Reminder from the supervisor"}


@pytest.fixture(params=["zh-CN", "en-US"])
def phone(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[Any, str]]:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              locale=request.param)
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg, request.param
    ctx.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def test_reminder_reaches_the_silent_unit_phone(phone: tuple[Any, str], server: Server) -> None:
    pg, locale = phone
    other = f"RM-{uuid.uuid4().hex[:5]}"
    with server.api("dispatcher") as c:
        for uid in (UNIT, other):
            r = c.post("/units", json={"id": uid, "unit_type": "patrol", "lat": 32.49, "lon": 119.92})
            assert r.status_code == 201, r.text
        r = c.post("/orders", json={"title": f"巡查 {other}", "body": "check the car park",
                                    "recipients": [f"unit:{UNIT}", f"unit:{other}"], "deadline_minutes": 30})
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
    user, password = server.logins["patrol"]
    pg.goto(f"{server.url}/m/")
    pg.wait_for_selector("#m-username", timeout=90_000)
    pg.fill("#m-username", user)
    pg.fill("#m-password", password)
    pg.tap("#m-login")
    card = f"[data-order='{oid}']"
    pg.wait_for_selector(card)
    pg.wait_for_selector("body[data-live='1']")  # the board stream is open
    assert pg.locator(f"{card}[data-reminded]").count() == 0

    with server.api("supervisor") as c:
        r = c.post(f"/orders/{oid}/remind")
        assert r.status_code == 200, r.text
        assert sorted(r.json()["last_reminder"]["to"]) == sorted([f"unit:{UNIT}", f"unit:{other}"])
    pg.wait_for_selector("body[data-reminded='1']")  # pushed live: the phone alerted
    pg.wait_for_selector(f"{card}[data-reminded='1']")
    text = pg.inner_text(card)
    assert WORDS[locale] in text and "supervisor1" in text

    # acknowledged on the phone: the reminder line gives way to the acknowledgement, the server has it
    pg.locator(f"{card} button[data-step='ack-order']").tap()
    pg.wait_for_selector(f"{card} .reminded", state="detached")
    pg.wait_for_selector("#m-queue", state="detached")  # the offline queue has sent it
    with server.api("supervisor") as c:
        view = c.get(f"/orders/{oid}").json()
    assert any(x["recipient"] == f"unit:{UNIT}" and x["acknowledged_at"] for x in view["recipients"])
