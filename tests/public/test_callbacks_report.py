"""Callbacks (回访) and the transparency report."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.core import audit
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.models import AuditRecord
from precinct.errors import BadInput, Conflict, Forbidden
from precinct.public import callbacks as cb
from precinct.public import stats as st_mod
from precinct.public.report import monthly_report, render_html

NOW = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 11, 10, 8, tzinfo=dt.UTC)


def rec(i: int, type_: str = "theft", priority: str = "yellow", minutes: float | None = 10.0,
        status: str = "closed") -> dict[str, Any]:
    ts = T0 + dt.timedelta(hours=i)
    return {"id": f"INC-{i:04d}", "ts": ts, "type": type_, "priority": priority, "lat": 32.49, "lon": 119.92,
            "status": status, "closed_at": ts + dt.timedelta(hours=1) if status == "closed" else None,
            "arrived_at": ts + dt.timedelta(minutes=minutes) if minutes is not None else None}


def test_sampling_is_deterministic_and_close_to_the_rate() -> None:
    ids = [f"INC-{i}" for i in range(4000)]
    taken = [i for i in ids if cb.sampled(i, 0.25)]
    assert taken == [i for i in ids if cb.sampled(i, 0.25)]
    assert 900 < len(taken) < 1100
    assert all(cb.sampled(i, 1.0) for i in ids[:10]) and not any(cb.sampled(i, 0.0) for i in ids[:10])


def test_tasks_for_closed_incidents_once_and_outcomes(db: Database) -> None:
    records = [rec(i) for i in range(6)] + [rec(6, status="dispatched"), rec(7, type_="fraud")]
    with db.session() as s:
        assert cb.generate(s, records=records, type_rates={"fraud": 0.0}, station_of=lambda la, lo: "ST-1",
                           now=NOW) == 6
        assert cb.generate(s, records=records, now=NOW) == 1  # only the fraud one is new; none twice
    with db.session() as s:
        tasks = cb.pending(s)
        assert [t.incident_id for t in tasks][:2] == ["INC-0000", "INC-0001"] and tasks[0].station == "ST-1"
        with pytest.raises(BadInput, match="score"):
            cb.record_outcome(s, callback_id=tasks[0].id, actor="ct", outcome="declined", score=3)
        with pytest.raises(BadInput, match="outcome"):
            cb.record_outcome(s, callback_id=tasks[0].id, actor="ct", outcome="maybe")
        for t, score in zip(tasks[:5], (5, 4, 4, 2, 5), strict=True):
            cb.record_outcome(s, callback_id=t.id, actor="ct", outcome="reached", score=score,
                              complaint=score == 2, now=NOW)
        cb.record_outcome(s, callback_id=tasks[5].id, actor="ct", outcome="not_reached")
        with pytest.raises(Conflict):
            cb.record_outcome(s, callback_id=tasks[5].id, actor="ct", outcome="reached", score=5)
    with db.sessionmaker() as s:
        sat = cb.satisfaction(s, since=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                              until=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), k=5)
    assert sat["overall"] == {"tasks": 7, "reached": 5, "not_reached": 1, "declined": 0, "pending": 1,
                              "complaints": 1, "mean_score": 4.0, "satisfied_pct": 80.0}
    assert sat["by_station"]["ST-1"]["satisfied_pct"] == 80.0 and "fraud" not in sat["by_type"]
    assert cb.script("en-US", agency="X", closed_at=T0).startswith("Hello, this is X. You called 110 on 2026-11-10")


def test_reading_the_callers_number_is_purpose_bound(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                                     app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.state.db.session() as s:
        cb.generate(s, records=[rec(1)], now=NOW)
        task = cb.pending(s)[0].id
    url = f"/api/v1/publishing/callbacks/{task}/caller"
    r = client.get(url, headers=auth_headers("call_taker", case="CB-1", purpose="incident_response"))
    assert r.status_code == 403 and "purpose" in r.json()["message"]
    ok = auth_headers("call_taker", case="CB-1", purpose="callback")
    r = client.get(url, headers=ok)
    assert r.status_code == 200 and "110" in r.json()["script"]
    with app.state.db.sessionmaker() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.case_id == "CB-1", AuditRecord.outcome == "ok",
                                                   AuditRecord.resource == "calls.caller")).all()
    assert [(a.purpose, a.action, a.result_count) for a in rows] == [("callback", "consultation", 1)]
    assert client.get(url, headers=auth_headers("analyst", case="CB-1", purpose="callback")).status_code == 403


def test_transparency_report_figures(db: Database) -> None:
    rows = [rec(i, minutes=m) for i, m in enumerate((4, 6, 8, 10, 12))] + [rec(10 + i, "fight", "orange", 20)
                                                                           for i in range(3)]
    with db.session() as s:
        audit.append(s, actor="a1", role="analyst", action="consultation", resource="anpr.trajectory",
                     case_id="C1", purpose="investigation", at=dt.datetime(2026, 11, 5, tzinfo=dt.UTC))
        audit.append(s, actor="a1", role="analyst", action="refusal", resource="anpr.trajectory",
                     outcome="refused", at=dt.datetime(2026, 11, 6, tzinfo=dt.UTC))
        audit.append(s, actor="retention", role="admin", action="erasure", resource="anpr.reads",
                     at=dt.datetime(2026, 12, 2, tzinfo=dt.UTC))  # next month: not counted
    with db.sessionmaker() as s:
        report = monthly_report(s, month="2026-11", k=5, source=lambda _s, **_kw: rows, now=NOW)
    assert report["incidents_by_type"] == [{"type": "theft", "type_zh": "盗窃", "type_en": "Theft", "count": 5}]
    assert report["response_times"] == {"yellow": {"attended": 5, "median_minutes": 8.0}}  # orange: only 3
    assert report["oversight"] == {"personal_data_reads_by_purpose": {"investigation": 1}, "refusals": 1,
                                   "retention_erasures": 0}
    page = render_html(report, agency="Precinct 公安局")
    assert "透明度报告 Transparency report · 2026-11" in page and "<td>8.0</td>" in page


def test_cli_callbacks_and_report(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(st_mod, "default_source", lambda _s, **_kw: [rec(i) for i in range(3)])
    with db.session() as s:
        create_user(s, username="ct1", role="call_taker", password="test-password-123")
        create_user(s, username="an1", role="analyst", password="test-password-123")
    runner = CliRunner()
    r = runner.invoke(cli_app, ["public", "callbacks", "generate", "--as", "ct1", "--days", "400"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"created": 3}
    assert isinstance(runner.invoke(cli_app, ["public", "callbacks", "generate", "--as", "an1"]).exception, Forbidden)
    r = runner.invoke(cli_app, ["public", "callbacks", "list", "--as", "ct1"])
    first = json.loads(r.stdout)[0]["id"]
    r = runner.invoke(cli_app, ["public", "callbacks", "record", "--as", "ct1", str(first), "--outcome", "reached",
                                "--score", "5"])
    assert r.exit_code == 0 and json.loads(r.stdout)["state"] == "reached"
    r = runner.invoke(cli_app, ["public", "callbacks", "caller", "--as", "ct1", str(first)])
    assert isinstance(r.exception, Forbidden)  # no case, no purpose
    r = runner.invoke(cli_app, ["public", "report", "--month", "2026-11", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["callbacks"]["overall"]["reached"] == 1
    r = runner.invoke(cli_app, ["public", "report", "--month", "2026-11"])
    assert r.exit_code == 0 and r.stdout.startswith("<!doctype html>")


def test_a_complaint_can_open_a_supervision_order(db: Database) -> None:
    command = pytest.importorskip("precinct.command.service")
    with db.session() as s:
        create_user(s, username="sup9", role="supervisor", password="test-password-123")
        cb.generate(s, records=[rec(1)], now=NOW)
        task = cb.pending(s)[0].id
    with pytest.raises(BadInput, match="unknown user"), db.session() as s:  # rolled back: still pending
        cb.record_outcome(s, callback_id=task, actor="ct", outcome="reached", score=1, complaint=True,
                          complaint_to=["user:nobody"])
    with db.session() as s:
        row = cb.record_outcome(s, callback_id=task, actor="ct", outcome="reached", score=1, complaint=True,
                                complaint_to=["user:sup9"], now=dt.datetime.now(dt.UTC))
        due = row.complaint_due
    from precinct.public.history import history

    with db.sessionmaker() as s:
        entries = history(s, kind="callback", object_id=str(task))
        assert [e["action"] for e in entries] == ["complaint_order"]
        order = command.order_view(s, command.get_order(s, entries[0]["detail"]["order"]))
    assert order["deadline"].startswith(due.isoformat()[:16]) and order["incident_id"] == "INC-0001"


def test_retention_erases_old_comments_and_audits(db: Database, settings: Any) -> None:
    from precinct.public import retention

    with db.session() as s:
        cb.generate(s, records=[rec(1), rec(2)], now=NOW)
        old, new = (t.id for t in cb.pending(s))
        cb.record_outcome(s, callback_id=old, actor="ct", outcome="reached", score=4, comment="the officer was kind",
                          now=NOW - dt.timedelta(days=200))
        cb.record_outcome(s, callback_id=new, actor="ct", outcome="reached", score=5, comment="fast", now=NOW)
    assert retention.run(db=db, settings=settings, now=NOW, actor="retention")[0]["erased"] == 1
    with db.sessionmaker() as s:
        assert (cb.get_callback(s, old).comment, cb.get_callback(s, old).score) == (None, 4)
        assert cb.get_callback(s, new).comment == "fast"
        rows = s.scalars(select(AuditRecord).where(AuditRecord.resource == "public.callbacks")).all()
    assert [(a.action, a.result_count) for a in rows] == [("erasure", 1)]


def test_a_complaint_without_recipients_goes_to_the_configured_default(
        client: TestClient, db: Database, settings: Any, auth_headers: Callable[..., dict[str, str]]) -> None:
    command = pytest.importorskip("precinct.command.service")
    from conftest import make_user
    from precinct.public.history import history

    sup = make_user(db, "supervisor")
    headers = auth_headers("call_taker")
    with db.session() as s:
        cb.generate(s, records=[rec(1), rec(2), rec(3)], now=NOW)
        tasks = [t.id for t in cb.pending(s)]

    def complain(task: int, **extra: Any) -> None:
        r = client.post(f"/api/v1/publishing/callbacks/{task}/outcome", headers=headers,
                        json={"outcome": "reached", "score": 1, "complaint": True, **extra})
        assert r.status_code == 200, r.text

    def orders_of(task: int) -> list[dict[str, Any]]:
        with db.sessionmaker() as s:
            return [command.order_view(s, command.get_order(s, e["detail"]["order"]))
                    for e in history(s, kind="callback", object_id=str(task)) if e["action"] == "complaint_order"]

    complain(tasks[0])  # no default configured: the deadline only, no order
    assert orders_of(tasks[0]) == []
    settings.public_complaint_to = f" user:{sup} ,"
    complain(tasks[1])
    assert [o["recipients_spec"] for o in orders_of(tasks[1])] == [[f"user:{sup}"]]
    complain(tasks[2], complaint_to=[])  # an explicit empty list: no order
    assert orders_of(tasks[2]) == []
    assert cb.default_recipients("a:1, ,b:2") == ["a:1", "b:2"] and cb.default_recipients(["x:1", " "]) == ["x:1"]
