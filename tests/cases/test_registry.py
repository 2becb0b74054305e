"""The case registry through the API, the CLI and the service: the contracts other tools rely on,
bad input naming the field, closing ending access at once, pins released on close."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from conftest import make_user
from precinct.cases import service
from precinct.cli import app as root
from precinct.core.db import Database
from precinct.core.models import AuditRecord
from precinct.errors import BadInput

runner = CliRunner()
API = "/api/v1"


def _login(client: TestClient, db: Database, role: str) -> tuple[str, dict[str, str]]:
    name = make_user(db, role)
    r = client.post(f"{API}/auth/token", data={"username": name, "password": "test-password-123"})
    assert r.status_code == 200
    return name, {"Authorization": f"Bearer {r.json()['access_token']}"}


def _audits(db: Database, **where: Any) -> list[AuditRecord]:
    with db.sessionmaker() as s:
        q = select(AuditRecord).order_by(AuditRecord.seq)
        for k, v in where.items():
            q = q.where(getattr(AuditRecord, k) == v)
        return list(s.scalars(q))


def test_api_contract_open_show_close(app: FastAPI, client: TestClient) -> None:
    db = app.state.db
    lead, h = _login(client, db, "analyst")
    mate, hm = _login(client, db, "analyst")
    r = client.post(f"{API}/cases", headers=h, json={"title": "电缆被盗", "type": "theft", "members": [mate]})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert r.json()["lead"] == lead and r.json()["members"] == [lead, mate] and r.json()["status"] == "open"
    got = client.get(f"{API}/cases/{case_id}", headers=hm).json()
    assert got["title"] == "电缆被盗" and got["type_zh"] == "盗窃" and got["stage"] == "registered"
    assert [c["id"] for c in client.get(f"{API}/cases", headers=hm).json()["cases"]] == [case_id]
    # a reader not on the case is refused, and the refusal is audited
    _, ho = _login(client, db, "analyst")
    r = client.get(f"{API}/cases/{case_id}", headers=ho)
    assert r.status_code == 403 and _audits(db, case_id=case_id, outcome="refused")
    r = client.post(f"{API}/cases/{case_id}/close", headers=h, json={"reason": "suspect arrested",
                                                                       "disposition": "solved"})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["disposition"] == "solved"
    r = client.post(f"{API}/cases/{case_id}/close", headers=h, json={"reason": "again"})
    assert r.status_code == 409 and r.json()["detail"]["field"] == "case_id"
    r = client.post(f"{API}/cases/{case_id}/members", headers=h, json={"username": mate})
    assert r.status_code == 409 and r.json()["detail"]["field"] == "case_id"


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "x", "type": "arson-ish"}, "type"),
    ({"title": "x", "type": "theft", "members": ["nobody_here"]}, "members"),
    ({"title": "x", "type": "theft", "teams": ["astrology"]}, "teams"),
    ({"title": "   ", "type": "theft"}, "title"),
    ({"type": "theft"}, "title"),
])
def test_bad_input_names_the_field(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                   body: dict[str, Any], field: str) -> None:
    r = client.post(f"{API}/cases", headers=auth_headers("analyst"), json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    fields = {d["field"] for d in detail} if isinstance(detail, list) else {detail["field"]}
    assert field in fields


def test_team_names_in_chinese_and_tasks(app: FastAPI, client: TestClient) -> None:
    db = app.state.db
    _lead, h = _login(client, db, "analyst")
    video, hv = _login(client, db, "analyst")
    case_id = client.post(f"{API}/cases", headers=h, json={"title": "抢劫", "type": "robbery",
                                                            "teams": ["刑侦", "video"]}).json()["id"]
    assert client.get(f"{API}/cases/{case_id}", headers=h).json()["teams"] == ["criminal", "video"]
    r = client.post(f"{API}/cases/{case_id}/tasks", headers=h, json={"title": "trace the car from 16:08",
                                                                     "team": "unknown-team"})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "team"
    r = client.post(f"{API}/cases/{case_id}/tasks", headers=h,
                    json={"title": "trace the car from 16:08", "team": "图侦", "assignee": video,
                          "deadline": "2020-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["team"] == "video" and task["status"] == "requested" and task["overdue"]
    # the assignee joined the case (needs its access to do the task) and moves the task
    assert video in client.get(f"{API}/cases/{case_id}", headers=h).json()["members"]
    url = f"{API}/cases/{case_id}/tasks/{task['id']}"
    assert client.patch(url, headers=hv, json={"status": "done"}).json()["detail"]["field"] == "result"
    assert client.patch(url, headers=hv, json={"status": "accepted"}).json()["status"] == "accepted"
    r = client.patch(url, headers=hv, json={"status": "done", "result": "seen at 16:21 on G2"})
    assert r.json()["status"] == "done" and not r.json()["overdue"]
    r = client.patch(url, headers=hv, json={"status": "accepted"})
    assert r.status_code == 409 and r.json()["detail"]["field"] == "status"


def test_cli_contract(db: Database, settings: Any) -> None:
    lead, mate = make_user(db, "analyst"), make_user(db, "dispatcher")
    r = runner.invoke(root, ["cases", "open", "--as", lead, "--title", "T", "--type", "burglary",
                             "--member", mate, "--format", "json"])
    assert r.exit_code == 0, r.output
    case_id = json.loads(r.output)["id"]
    r = runner.invoke(root, ["cases", "list", "--as", mate, "--format", "json"])
    assert [c["id"] for c in json.loads(r.output)["cases"]] == [case_id]
    r = runner.invoke(root, ["cases", "show", "--as", mate, case_id])
    assert r.exit_code == 0 and case_id in r.output and "入室盗窃" in r.output
    other = make_user(db, "analyst")
    r = runner.invoke(root, ["cases", "add-member", "--as", lead, case_id, other])
    assert r.exit_code == 0, r.output
    r = runner.invoke(root, ["cases", "close", "--as", mate, case_id, "--reason", "x"])
    assert r.exit_code != 0  # a member is not the lead
    r = runner.invoke(root, ["cases", "close", "--as", lead, case_id, "--reason", "done"])
    assert r.exit_code == 0, r.output
    with db.sessionmaker() as s:
        assert not service.is_open(s, case_id)
        assert service.get_case(s, case_id)["members"] == [lead, mate, other]
    r = runner.invoke(root, ["cases", "open", "--as", lead, "--title", "T", "--type", "nope"])
    assert isinstance(r.exception, BadInput) and r.exception.detail["field"] == "type"


def test_service_contract_and_ids(any_db: Database) -> None:
    lead, mate = make_user(any_db, "analyst"), make_user(any_db, "supervisor")
    with any_db.session() as s:
        a = service.open_case(s, title="A", type="fraud", lead=lead, members=[mate], teams=["antifraud"], ref="JS-1")
        b = service.open_case(s, title="B", type="other", lead=lead)
    assert a["id"] != b["id"] and a["id"].startswith("C") and a["ref"] == "JS-1"
    with any_db.session() as s:
        service.add_member(s, case_id=a["id"], username=make_user(any_db, "analyst"), by=mate)
        closed = service.close_case(s, case_id=a["id"], by=mate, reason="merged", disposition="并案")
    assert closed["disposition"] == "merged" and closed["closed_by"] == mate
    with any_db.sessionmaker() as s:
        assert service.case_ids_for(s, lead) == [b["id"]]
        assert service.get_case(s, a["id"])["status"] == "closed"


def test_link_incident_must_exist(any_db: Database) -> None:
    lead = make_user(any_db, "dispatcher")
    with any_db.session() as s:
        case_id = service.open_case(s, title="A", type="assault", lead=lead)["id"]
    with pytest.raises(BadInput) as err, any_db.session() as s:
        service.link_incident(s, case_id=case_id, incident_id="INC-NOPE", by=lead)
    assert err.value.detail["field"] == "incident_id"


def test_closing_releases_pins_and_audits_the_release(any_db: Database) -> None:
    import precinct.anpr  # noqa: F401  (registers the pins' close hook, as the app and the CLI do)
    from precinct.anpr.models import CaseRead
    from precinct.cases import supervision
    from precinct.core.timeutil import utcnow

    lead = make_user(any_db, "analyst")
    with any_db.session() as s:
        case_id = service.open_case(s, title="A", type="theft", lead=lead)["id"]
        s.add_all([CaseRead(case_id=case_id, rid=r, created_by=lead, created_at=utcnow()) for r in (7, 3, 5)])
    with any_db.sessionmaker() as s:
        assert supervision.completeness(s, case_id=case_id)[0]["check"] in ("team", "scene")
    with any_db.session() as s:
        service.close_case(s, case_id=case_id, by=lead, reason="done")
    with any_db.sessionmaker() as s:
        assert s.scalars(select(CaseRead).where(CaseRead.case_id == case_id)).all() == []
        checks = {p["check"] for p in supervision.completeness(s, case_id=case_id)}
    assert checks == {"disposition"}  # no reason missing, nothing still pinned
    release = [r for r in _audits(any_db, case_id=case_id, resource="anpr.case_reads")]
    assert len(release) == 1 and json.loads(release[0].params) == {"op": "release", "reason": "case closed",
                                                                   "rids": [3, 5, 7]}


def test_import_cases_csv_with_scenes_and_line_numbers(db: Database, settings: Any, tmp_path: Any) -> None:
    lead = make_user(db, "analyst")
    good = tmp_path / "cases.csv"
    good.write_text("case_id,lat,lon,start,end,radius_km\n"
                    "cable_theft,31.3,120.6,2026-03-01T01:00:00Z,2026-03-01T03:00:00Z,5\n"
                    "fleeing,31.31,120.61,2026-03-02T16:00:00+08:00,2026-03-02T17:00:00+08:00,\n", encoding="utf-8")
    r = runner.invoke(root, ["cases", "import", str(good), "--type", "theft", "--as", lead, "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)["cases"]
    assert [(x["ref"], x["opened"]) for x in rows] == [("cable_theft", True), ("fleeing", True)]
    with db.sessionmaker() as s:
        case = service.get_case(s, rows[0]["id"])
    assert case["ref"] == "cable_theft" and case["scenes"][0]["radius_km"] == 5
    assert case["scenes"][0]["start"] == "2026-03-01T01:00:00Z"
    r = runner.invoke(root, ["cases", "import", str(good), "--type", "theft", "--as", lead, "--format", "json"])
    assert [x["opened"] for x in json.loads(r.output)["cases"]] == [False, False]
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,lat,lon,start,end\nA,31,120,2026-03-01T01:00:00Z,2026-03-01T03:00:00Z\n"
                   "B,north,120,2026-03-01T01:00:00Z,2026-03-01T03:00:00Z\n", encoding="utf-8")
    r = runner.invoke(root, ["cases", "import", str(bad), "--type", "theft", "--as", lead])
    assert isinstance(r.exception, BadInput) and r.exception.detail == {"line": 3, "field": "lat"}
    with db.sessionmaker() as s:  # nothing of the bad file was opened
        assert {c["ref"] for c in service.list_cases(s)} == {"cable_theft", "fleeing"}


def test_pins_need_an_open_case_of_the_caller_and_list_the_read_ids(
        app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    h = auth_headers("analyst", case="CASE-PIN-1", purpose="investigation")
    r = client.post(f"{API}/anpr/case-reads", headers=h, json={"rids": [11, 4, 11]})
    assert r.status_code == 200 and r.json() == {"pinned": 2}
    rec = _audits(app.state.db, case_id="CASE-PIN-1", resource="anpr.case_reads")[-1]
    assert json.loads(rec.params)["rids"] == [11, 4]
    other = auth_headers("supervisor")  # not on the case: refused, audited
    r = client.post(f"{API}/anpr/case-reads", headers={**other, "X-Case-Id": "CASE-PIN-1",
                                                         "X-Purpose": "investigation"}, json={"rids": [1]})
    assert r.status_code == 403 and "neither the lead nor a member" in r.json()["message"]


def test_demo_cases_open_once(db: Database) -> None:
    users = {r: make_user(db, r) for r in ("analyst", "supervisor", "dispatcher", "patrol", "auditor")}
    with db.session() as s:
        first = service.ensure_demo_cases(s, users=users)
    with db.session() as s:
        assert service.ensure_demo_cases(s, users=users) == first and len(first) == 3
        mp = service.get_case(s, first[1])
    assert mp["type"] == "missing_person" and users["patrol"] in mp["members"] and mp["lead"] == users["supervisor"]


def test_one_click_order_from_a_case(app: FastAPI, client: TestClient) -> None:
    db = app.state.db
    _, h = _login(client, db, "dispatcher")
    officer, ha = _login(client, db, "analyst")
    case_id = client.post(f"{API}/cases", headers=h, json={"title": "抢劫 robbery", "type": "robbery"}).json()["id"]
    r = client.post(f"{API}/cases/{case_id}/orders", headers=ha, json={"title": "x", "recipients": ["all"]})
    assert r.status_code == 403  # analysts do not issue orders
    r = client.post(f"{API}/cases/{case_id}/orders", headers=h,
                    json={"title": "设卡堵截 checkpoint on G2", "recipients": [f"user:{officer}"],
                          "deadline_minutes": 15})
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    assert client.get(f"{API}/cases/{case_id}", headers=h).json()["orders"] == [order_id]
