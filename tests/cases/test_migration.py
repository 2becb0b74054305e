"""Migration 0010_cases brings existing data over: case ids that plate-read pins name become open
cases (led by the first pinner, everyone who pinned a member), so pins and access survive; the audit
chain is not touched."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from precinct.cases.models import Case, CaseMember
from precinct.core import audit
from precinct.core.db import Database, upgrade


def test_pins_with_free_text_case_ids_become_open_cases(any_db: Database) -> None:
    db = any_db
    # the fixture migrated everything; simulate the state before 0010 by removing the cases branch
    with db.engine.begin() as conn:
        for table in ("case_deadlines", "case_tasks", "case_notes", "case_links", "case_scenes", "case_teams",
                      "case_members", "cases"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0010_cases'"))
        t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        for i, (case, who) in enumerate([("OLD-7", "ana"), ("OLD-7", "bob"), ("OLD-7", "ana"), ("X 9", "bob")]):
            conn.execute(text("INSERT INTO anpr_case_reads (case_id, rid, created_by, created_at) "
                              "VALUES (:c, :r, :w, :t)"), {"c": case, "r": i, "w": who, "t": t0 + dt.timedelta(i)})
    with db.session() as s:
        audit.append(s, actor="ana", role="analyst", action="consultation", resource="anpr.trajectory",
                     case_id="OLD-7", purpose="investigation", result_count=3)
    upgrade(db.engine)
    with db.sessionmaker() as s:
        cases = {c.id: c for c in s.scalars(select(Case))}
        members = {(m.case_id, m.username) for m in s.scalars(select(CaseMember))}
    assert set(cases) == {"OLD-7", "X 9"}
    assert cases["OLD-7"].lead == "ana" and cases["OLD-7"].status == "open" and cases["OLD-7"].origin == "migrated"
    assert members == {("OLD-7", "ana"), ("OLD-7", "bob"), ("X 9", "bob")}
    assert audit.verify(db.engine).ok  # existing records with free-text case ids stay verifiable
