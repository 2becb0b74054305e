"""Case-handling supervision with known answers: configured deadlines make a case overdue, overdue
tasks are listed, completeness problems are found, per-team statistics count what was planted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from conftest import make_user
from precinct.cases import service, supervision
from precinct.cases.models import Case
from precinct.core.db import Database
from precinct.core.models import AuditRecord


def test_overdue_completeness_and_team_stats(any_db: Database) -> None:
    lead, boss = make_user(any_db, "analyst"), make_user(any_db, "supervisor")
    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    with any_db.session() as s:
        a = service.open_case(s, title="A", type="theft", lead=lead, teams=["video", "criminal"])["id"]
        b = service.open_case(s, title="B", type="fraud", lead=lead, teams=["video"])["id"]
        c = service.open_case(s, title="C", type="missing_person", lead=lead)["id"]
        d = service.open_case(s, title="D", type="review", lead=boss, teams=["oversight"])["id"]
        supervision.set_deadline(s, type="theft", stage="registered", days=2, by=boss, role="supervisor")
        s.execute(update(Case).values(stage_since=now - dt.timedelta(days=3), created_at=now - dt.timedelta(days=3)))
        service.create_task(s, case_id=a, title="trace", team="video", deadline=now - dt.timedelta(hours=5), by=lead)
        service.create_task(s, case_id=b, title="later", team="video", deadline=now + dt.timedelta(days=1), by=lead)
    with any_db.session() as s:
        service.close_case(s, case_id=b, by=lead, reason="referred")  # no disposition: a completeness problem
        s.execute(update(Case).where(Case.id == b).values(closed_at=now - dt.timedelta(days=1)))
        # legacy reads recorded before the check: an investigation under a review case does not fit
        for seq, case, purpose in ((10_000, c, "audit_review"), (10_001, d, "investigation")):
            s.add(AuditRecord(seq=seq, ts=now.isoformat(), actor="x", role="analyst", action="consultation",
                              resource="anpr.trajectory", params="{}", result_count=1, case_id=case, purpose=purpose,
                              outcome="ok", prev_hash="0", hash="0"))
    with any_db.sessionmaker() as s:
        over = supervision.overdue(s, now=now)
        problems = supervision.completeness(s)
        teams = {t["team"]: t for t in supervision.team_stats(s, now=now)}
        rows = {(r["type"], r["stage"]): r for r in supervision.deadlines(s)}
    # theft registered: configured 2 days, 3 days in -> 24 h overdue; missing person registered: 0.5 days -> 60 h
    # d (review, registered: default 3 days) is just due, not overdue
    assert [(x["id"], x["overdue_hours"]) for x in over["cases"]] == [(c, 60.0), (a, 24.0)]
    assert [(t["case_id"], t["overdue_hours"]) for t in over["tasks"]] == [(a, 5.0)]
    assert rows[("theft", "registered")] == {"type": "theft", "stage": "registered", "days": 2.0,
                                             "source": "configured"}
    got = {(p["case_id"], p["check"]) for p in problems}
    assert (b, "disposition") in got and (c, "team") in got and (c, "scene") not in got and (a, "scene") in got
    assert (c, "purpose") not in got and (d, "purpose") in got  # audit_review fits any type; investigation no review
    assert teams["video"]["open_cases"] == 1 and teams["video"]["closed_cases"] == 1
    assert teams["video"]["median_hours_to_close"] == 48.0 and teams["video"]["overdue_tasks"] == 1
    assert teams["criminal"]["open_cases"] == 1 and teams["cyber"]["open_cases"] == 0


def test_supervision_route(app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    assert client.get("/api/v1/cases/supervision", headers=auth_headers("analyst")).status_code == 403
    r = client.get("/api/v1/cases/supervision", headers=auth_headers("supervisor"))
    assert r.status_code == 200 and set(r.json()) >= {"overdue", "completeness", "teams", "open_cases"}
    r = client.put("/api/v1/cases/deadlines", headers=auth_headers("supervisor"),
                   json={"type": "盗窃", "stage": "investigating", "days": 20})
    assert r.status_code == 200 and r.json()["type"] == "theft"
    r = client.put("/api/v1/cases/deadlines", headers=auth_headers("supervisor"),
                   json={"type": "theft", "stage": "forever", "days": 20})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "stage"
