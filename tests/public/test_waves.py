"""Fraud waves proposed as public warnings: a wave becomes a draft CAP alert over the hull of the
station areas (a bulletin when none is defined), written by the system, never published without a
supervisor's approval, proposed once per window, and carrying no personal data. End to end: reports
imported through the API → ``fraud.wave`` on the bus → a proposed draft → approved → in the feed."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from precinct.config import Settings
from precinct.core.db import Database
from precinct.errors import BadInput, Forbidden
from precinct.public import alerts as al
from precinct.public import bulletins as bl
from precinct.public import cap, waves
from precinct.public.stations import add_station_area

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
CAP = f"{{{cap.CAP_NS}}}"


def wave(reports: int = 12, **kw: Any) -> dict[str, Any]:
    return {"key": "type:fake_loan", "kind": "type", "fraud_type": "fake_loan", "type_zh": "网络贷款",
            "type_en": "fake online loan", "channels": [{"code": "sms", "zh": "短信", "en": "text message"}],
            "reports": reports, "days": 7.0, "modus_zh": "以低息贷款为诱饵收取费用后失联。",
            "modus_en": "Easy loans are offered; fees are taken.", "advice_zh": "不轻信、不转账。如有疑问请拨打96110。",
            "advice_en": "Do not transfer money. If in doubt call 96110.", **kw}


def two_squares(db: Database) -> None:
    with db.session() as s:
        add_station_area(s, station_id="ST-A", name_zh="甲派出所", name_en="Station A",
                         points=[[32.40, 119.90], [32.40, 119.91], [32.41, 119.91], [32.41, 119.90], [32.40, 119.90]])
        add_station_area(s, station_id="ST-B", name_zh="乙派出所", name_en="Station B",
                         points=[[32.40, 119.92], [32.40, 119.93], [32.41, 119.93], [32.41, 119.92], [32.40, 119.92]])


def test_a_wave_becomes_a_draft_alert_over_the_jurisdiction(db: Database, settings: Settings) -> None:
    two_squares(db)
    with db.session() as s:
        made = waves.propose(s, wave=wave(), k=5, now=NOW)
    assert made is not None and made["kind"] == "alert"
    with db.session() as s:  # the same wave in the same window: not again
        assert waves.propose(s, wave=wave(reports=14), k=5, now=NOW + dt.timedelta(days=2)) is None
    with db.session() as s:  # a week later it is a new wave
        assert waves.propose(s, wave=wave(), k=5, now=NOW + dt.timedelta(days=8)) is not None
    with db.sessionmaker() as s:
        alert = al.get_alert(s, made["id"])
        view = al.alert_view(alert)
    assert alert.state == "draft" and alert.created_by == waves.AUTHOR
    # the hull of two squares side by side is the rectangle round both (by hand, not by Shapely)
    corners = {(round(lat, 6), round(lon, 6)) for lat, lon in view["area"]["points"]}
    assert corners == {(32.40, 119.90), (32.40, 119.93), (32.41, 119.93), (32.41, 119.90)}
    zh, en = view["texts"]["zh-CN"], view["texts"]["en-US"]
    assert "网络贷款" in zh["headline"] and "12起" in zh["description"] and "短信" in zh["description"]
    assert "fake online loan" in en["headline"] and en["description"].startswith("12 reports")
    with pytest.raises(Forbidden), db.session() as s:  # the system never approves; a supervisor does
        al.approve_alert(s, alert_id=made["id"], approver=waves.AUTHOR, settings=settings)
    with db.session() as s:
        al.approve_alert(s, alert_id=made["id"], approver="sup1", settings=settings)
    with db.sessionmaker() as s:
        doc = al.cap_document(s, alert_id=made["id"], settings=settings)
    schema = etree.XMLSchema(etree.parse(str(cap.XSD_PATH)))
    root = etree.fromstring(doc)
    assert schema.validate(root), schema.error_log
    cap.verify(doc, cap.signing_material(settings).cert_pem)
    assert sorted(i.findtext(f"{CAP}language") or "" for i in root.iter(f"{CAP}info")) == ["en-US", "zh-CN"]


def test_counts_under_k_are_not_published_and_bad_waves_are_refused(db: Database) -> None:
    zh, en = waves.texts(wave(reports=3), k=5).values()
    assert "多起" in zh["description"] and "3起" not in zh["description"]
    assert en["description"].startswith("Several reports") and " 3 " not in en["description"]
    with pytest.raises(BadInput, match="type_zh"), db.session() as s:
        waves.propose(s, wave={**wave(), "type_zh": ""}, k=5, now=NOW)
    with pytest.raises(BadInput, match="personal data"), db.session() as s:
        waves.propose(s, wave=wave(modus_en="call 13800138000 now"), k=5, now=NOW)


def test_without_station_areas_a_bulletin_is_proposed(db: Database) -> None:
    with db.session() as s:
        made = waves.propose(s, wave=wave(), k=5, now=NOW)
    assert made is not None and made["kind"] == "bulletin"
    with db.session() as s:
        row = bl.approve_bulletin(s, bulletin_id=made["id"], approver="sup1")
        assert row.state == "published" and "网络贷款" in row.title_zh and row.source_kind == "fraud_wave"


def test_imported_reports_become_a_proposed_alert_through_the_bus(
        client: TestClient, db: Database, settings: Settings, auth_headers: Callable[..., dict[str, str]]) -> None:
    settings.fraud_wave_reports = 3
    two_squares(db)
    now = dt.datetime.now(dt.UTC)
    victims = [("张三", "13700001111", "6222000011112222"), ("李四", "13700002222", "6222000033334444"),
               ("王五", "13700003333", "6222000055556666")]
    csv = "report_id,ts,type,channel,loss,accounts,victim_name,victim_phone\n" + "".join(
        f"BUS-{i},{(now - dt.timedelta(hours=i + 1)).isoformat()},task_rebate,app,500,{acct},{name},{phone}\n"
        for i, (name, phone, acct) in enumerate(victims))
    r = client.post("/api/v1/fraud/reports/import", content=csv.encode(),
                    headers={**auth_headers("analyst"), "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["stored"] == 3, r.text
    sup = auth_headers("supervisor")
    proposed: list[dict[str, Any]] = []
    for _ in range(200):  # the bus delivers in the background: wait for the draft (bounded)
        alerts = client.get("/api/v1/publishing/alerts", headers=sup).json()["alerts"]
        proposed = [a for a in alerts if a["created_by"] == waves.AUTHOR]
        if proposed:
            break
        time.sleep(0.05)
    assert len(proposed) == 1 and proposed[0]["state"] == "draft"
    assert "刷单返利" in proposed[0]["texts"]["zh-CN"]["headline"]
    assert "应用程序" in proposed[0]["texts"]["zh-CN"]["description"]
    r = client.post(f"/api/v1/publishing/alerts/{proposed[0]['id']}/approve", headers=sup)
    assert r.status_code == 200 and r.json()["state"] == "published", r.text
    feed = client.get("/api/v1/public/alerts.atom").text
    doc = client.get(f"/api/v1/public/alerts/{proposed[0]['id']}/cap").text
    assert proposed[0]["id"] in feed
    for name, phone, acct in victims:
        for value in (name, phone, acct, "BUS-0", "BUS-1", "BUS-2"):
            assert value not in doc and value not in feed
