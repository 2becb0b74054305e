"""Issue 21: a hotlist alert acknowledged on the dispatcher's board: stored once (who, when),
audited, pushed live to the roles that receive alerts, and the answer names no plate."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.anpr import service
from precinct.anpr.models import Alert
from precinct.command.board import BoardHub
from precinct.command.board_policy import access_for
from precinct.core.bus import InProcessBus
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.models import AuditRecord
from precinct.core.roles import Role
from precinct.errors import NotFound

from .conftest import CENTER, T0_US, iso

Headers = Callable[..., dict[str, str]]
PLATE = "苏E77881"


def _alert(db: Database, hotlist_id: int = 42) -> int:
    with db.session() as s:
        a = Alert(rid=1, hotlist_id=hotlist_id, plate=PLATE, read_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                  lat=CENTER[0], lon=CENTER[1], camera_id="CAM1", list_name="stolen", reason="stolen car")
        s.add(a)
        s.flush()
        return a.id


def _acks(db: Database) -> list[AuditRecord]:
    with db.sessionmaker() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.resource == "anpr.alerts",
                                                        AuditRecord.action == "alteration")))


def test_first_acknowledgement_stands_and_is_audited_once(any_db: Database) -> None:
    alert_id = _alert(any_db)
    first = service.acknowledge_alert(any_db, alert_id=alert_id, actor="disp1", role="dispatcher")
    assert first["acknowledged_by"] == "disp1" and first["already"] is False
    assert first["acknowledged_at"].endswith("Z")
    second = service.acknowledge_alert(any_db, alert_id=alert_id, actor="disp2", role="dispatcher")
    assert second["already"] is True
    assert (second["acknowledged_by"], second["acknowledged_at"]) == ("disp1", first["acknowledged_at"])
    with any_db.sessionmaker() as s:
        row = s.get(Alert, alert_id)
        assert row is not None and row.acknowledged_by == "disp1" and row.acknowledged_at is not None
    recs = _acks(any_db)
    assert [(r.actor, r.role, r.case_id, r.purpose) for r in recs] == [
        ("disp1", "dispatcher", "hotlist:42", "hotlist_alert")]
    assert PLATE not in recs[0].params and "alert_id" in recs[0].params
    assert PLATE not in str(first) and PLATE not in str(second)
    with pytest.raises(NotFound):
        service.acknowledge_alert(any_db, alert_id=alert_id + 1000, actor="disp1", role="dispatcher")


def _raise_alert(client: TestClient, auth_headers: Headers) -> None:
    r = client.put("/api/v1/anpr/cameras", headers=auth_headers("admin"),
                   json=[{"camera_id": "CAM9", "name": "文昌路卡口", "lat": CENTER[0], "lon": CENTER[1]}])
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/anpr/hotlist", headers=auth_headers("analyst"),
                    json={"entries": [{"plate": PLATE, "reason": "stolen 2026-02-27", "list": "stolen"}]})
    assert r.status_code == 201, r.text
    read = {"plate": PLATE, "ts": iso(T0_US), "lat": CENTER[0], "lon": CENTER[1], "camera_id": "CAM9"}
    r = client.post("/api/v1/anpr/reads", json=[read], headers=auth_headers("admin"))
    assert r.status_code == 200 and r.json()["alerts"] == 1, r.text


def test_ack_route_stores_publishes_and_shows_in_the_alert_list(
    app: FastAPI, client: TestClient, auth_headers: Headers
) -> None:
    _raise_alert(client, auth_headers)
    with app.state.db.sessionmaker() as s:
        alert_id = s.scalars(select(Alert.id)).one()
    bus = app.state.bus
    received: list[tuple[str, dict[str, Any]]] = []

    async def listen() -> None:
        agen = bus.subscribe("anpr.alert_ack")
        received.append(await asyncio.wait_for(agen.__anext__(), 10))
        await agen.aclose()

    fut = asyncio.run_coroutine_threadsafe(listen(), bus._loop)
    time.sleep(0.2)  # let the subscriber register
    disp = auth_headers("dispatcher")
    r = client.post(f"/api/v1/anpr/alerts/{alert_id}/ack", headers=disp)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["alert_id"] == alert_id and body["already"] is False and body["acknowledged_by"]
    assert PLATE not in r.text
    fut.result(timeout=10)
    subject, event = received[0]
    assert subject == "anpr.alert_ack"
    assert event["alert_id"] == alert_id and event["acknowledged_by"] == body["acknowledged_by"]
    assert PLATE not in str(event)
    # a second dispatcher: nothing changes
    r2 = client.post(f"/api/v1/anpr/alerts/{alert_id}/ack", headers=auth_headers("supervisor"))
    assert r2.status_code == 200 and r2.json()["already"] is True
    assert r2.json()["acknowledged_by"] == body["acknowledged_by"]
    # the (personal, audited) alert list says who acknowledged it
    r = client.get("/api/v1/anpr/alerts", headers=auth_headers("dispatcher", case="OPS-1", purpose="hotlist_alert"))
    assert r.status_code == 200
    got = r.json()["alerts"][0]
    assert got["read"]["camera_id"] == "CAM9" and got["read"]["camera_name"] == "文昌路卡口"
    assert (got["acknowledged_by"], got["acknowledged_at"]) == (body["acknowledged_by"], body["acknowledged_at"])
    assert len(_acks(app.state.db)) == 1


def test_ack_route_refuses_roles_without_alerts_and_unknown_alerts(
    client: TestClient, auth_headers: Headers
) -> None:
    _raise_alert(client, auth_headers)
    for role in ("call_taker", "auditor", "admin"):
        r = client.post("/api/v1/anpr/alerts/1/ack", headers=auth_headers(role))
        assert r.status_code == 403, (role, r.text)
    r = client.post("/api/v1/anpr/alerts/999/ack", headers=auth_headers("dispatcher"))
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_ack_event_reaches_only_the_roles_that_receive_alerts() -> None:
    async def scenario() -> tuple[bytes, bytes]:
        bus = InProcessBus()
        await bus.start()
        hub = BoardHub(bus)
        await hub.start()
        await asyncio.sleep(0)
        cleared = hub.connect(access=access_for(Principal(1, "d", Role.dispatcher)))
        plain = hub.connect(access=access_for(Principal(2, "c", Role.call_taker)))
        bus.publish(service.ACK_SUBJECT, {"alert_id": 7, "hotlist_id": 3, "acknowledged_by": "d2"})
        await asyncio.sleep(0.3)
        got = [b"".join(c.queue.get_nowait() for _ in range(c.queue.qsize())) for c in (cleared, plain)]
        await hub.stop()
        await bus.stop()
        return got[0], got[1]

    cleared, plain = asyncio.run(scenario())
    assert b"event: anpr.alert_ack" in cleared and b'"alert_id":7' in cleared
    assert b"anpr.alert_ack" not in plain
