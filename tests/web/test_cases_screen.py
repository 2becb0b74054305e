"""The cases screen (案件合成作战): open a case, see it in the list, request a service of a team, make
it the current case, read its timeline (an audited read under that case); the case prompt lists
the user's open cases (checked through the API the prompt reads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.web.conftest import shot
from tests.web.server import Server

pytestmark = pytest.mark.browser


def test_open_a_case_work_it_and_read_its_timeline(page: Any, server: Server,
                                                   login: Callable[[Any, str], None]) -> None:
    login(page, "analyst")
    page.click("#nav a[data-view=cases]")
    page.wait_for_selector("#case-title")
    page.fill("#case-title", "E2E 入室盗窃系列")
    page.select_option("#case-type", "burglary")
    page.click("#case-open")
    page.wait_for_selector("#case-use")
    heading = page.inner_text("#case-workspace h3")
    case_id = heading.split(" · ")[0]
    assert case_id.startswith("C") and "E2E 入室盗窃系列" in heading
    assert case_id in page.inner_text("#cases-table")
    page.fill("#task-title", "图侦：追踪 16:08 嫌疑车辆")
    page.select_option("#task-team", "video")
    page.click("#case-workspace form.inline button[type=submit]")
    page.wait_for_selector("#case-tasks td[data-col=title]")
    assert "16:08" in page.inner_text("#case-tasks")
    page.click("#case-use")
    assert case_id in page.inner_text("#case-chip")
    page.click("#case-timeline-load")
    page.wait_for_selector("#case-timeline-table")
    assert "task" in page.inner_text("#case-timeline-table")
    shot(page, "case-workspace")
    with server.api("analyst") as c:
        mine = c.get("/cases", params={"mine": "true", "status": "open"}).json()["cases"]
    assert case_id in [x["id"] for x in mine]
    with server.api("auditor") as c:
        recs = c.get("/audit/records", params={"case_id": case_id, "limit": 20},
                     headers=server.review_headers()).json()["records"]
    assert any(r["resource"] == "cases.timeline" and r["outcome"] == "ok" for r in recs)
