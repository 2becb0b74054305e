"""A case's notes and photos (issue 19, "attached to an incident or case"): on the phone the officer
attaches a photo (carrying EXIF GPS) and a note to an open case they are on; the server has both
once, the photo without its location; the case lead sees them in the cases workspace.

Known answers: the photo is made here with Pillow; what the server stored is read from its API."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.web.server import Server
from tests.web.test_mobile import _login, phone  # noqa: F401 (fixture)
from tests.web.test_mobile_scene import _photo  # the photo carries EXIF GPS (checked there)

pytestmark = pytest.mark.browser


def test_phone_attaches_to_a_case_and_the_workspace_shows_it(phone: Any, server: Server, page: Any,  # noqa: F811
                                                            login: Callable[[Any, str], None],
                                                            tmp_path: Path) -> None:
    officer = server.logins["patrol"][0]
    with server.api("analyst") as c:
        r = c.post("/cases", json={"title": "电动车盗窃系列 E2E", "type": "theft", "members": [officer]})
        assert r.status_code == 201, r.text
        case = r.json()["id"]
    _login(phone, server)
    card = f"#m-cases article[data-case='{case}']"
    phone.wait_for_selector(card)
    phone.tap(f"{card} details.attach summary")
    phone.fill(f"{card} textarea[data-field=note]", "失主指认现场 owner on site")
    phone.tap(f"{card} button[data-step=note]")
    phone.set_input_files(f"{card} input[data-field=photo]", str(_photo(tmp_path / "case.jpg")))
    phone.wait_for_function("() => !document.querySelector('#m-queue')")  # the queue has drained
    with server.api("analyst") as c:
        rows = c.get(f"/cases/{case}/attachments").json()["attachments"]
        assert [a["kind"] for a in rows] == ["note", "image"], rows
        assert rows[0]["note"] == "失主指认现场 owner on site" and rows[1]["unit_id"] == "P-01"
        got = c.get(rows[1]["url"].removeprefix("/api/v1"))
    assert got.status_code == 200
    with Image.open(io.BytesIO(got.content)) as im:
        assert im.size == (320, 240) and dict(im.getexif().get_ifd(0x8825)) == {}  # GPS gone

    login(page, "analyst")
    page.click("#nav a[data-view=cases]")
    page.wait_for_selector("#cases-table")
    page.click(f"#cases-table td:text-is('{case}')")
    page.wait_for_selector("#case-attachments[data-count='2']")
    page.wait_for_selector("#case-attachments li.photo img[src^='blob:']")
    assert "失主指认现场" in page.inner_text("#case-attachments")
    # the lead adds a note from the workspace
    page.fill("#case-attach-note", "已调取周边监控")
    page.click("#case-attach-form button[type=submit]")
    page.wait_for_selector("#case-attachments[data-count='3']")
    with server.api("analyst") as c:
        assert c.get(f"/cases/{case}/attachments").json()["attachments"][-1]["note"] == "已调取周边监控"
