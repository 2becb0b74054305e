"""API: ingest in three encodings, alerts on the bus, and every personal-data route's access rule."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.core.models import AuditRecord

from .conftest import CENTER, T0_US, iso, random_reads, to_csv

Headers = Callable[..., dict[str, str]]
CASE = {"case": "CASE-ANPR-1", "purpose": "investigation"}


def audits(app: FastAPI, **where: Any) -> list[AuditRecord]:
    with app.state.db.sessionmaker() as s:
        q = select(AuditRecord).order_by(AuditRecord.seq)
        for k, v in where.items():
            q = q.where(getattr(AuditRecord, k) == v)
        return list(s.scalars(q))


def test_ingest_json_csv_arrow_with_dedup(
    app: FastAPI, client: TestClient, auth_headers: Headers
) -> None:
    h = auth_headers("admin")
    rows = random_reads(300, seed=2)
    r = client.post(
        "/api/v1/anpr/reads", json={"reads": [*rows[:100], {"plate": "", "ts": "x"}]}, headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (100, 0, 1)
    assert body["rejects"][0]["item"] == 101
    r = client.post(
        "/api/v1/anpr/reads",
        content=to_csv(rows[50:200]),
        headers={**h, "Content-Type": "text/csv"},
    )
    assert (r.json()["stored"], r.json()["duplicates"]) == (100, 50)
    table = pa.Table.from_pylist(rows[150:300])
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    r = client.post(
        "/api/v1/anpr/reads",
        content=sink.getvalue(),
        headers={**h, "Content-Type": "application/vnd.apache.arrow.stream"},
    )
    assert (r.json()["stored"], r.json()["duplicates"]) == (100, 50)
    # one collection record per batch, naming the counts
    coll = audits(app, action="collection", resource="anpr.reads")
    assert [a.result_count for a in coll] == [100, 100, 100]
    r = client.post(
        "/api/v1/anpr/reads", content=b"plate,lat\n", headers={**h, "Content-Type": "text/csv"}
    )
    assert r.status_code == 422 and r.json()["detail"]["line"] == 1


def test_hotlist_hit_publishes_alert_on_bus(
    app: FastAPI, client: TestClient, auth_headers: Headers
) -> None:
    h = auth_headers("analyst")
    r = client.post(
        "/api/v1/anpr/hotlist",
        json={"entries": [{"plate": "苏E·12345", "reason": "stolen 2026-02-27", "list": "stolen"}]},
        headers=h,
    )
    assert r.status_code == 201, r.text
    bus = app.state.bus
    received: list[tuple[str, dict[str, Any]]] = []

    async def listen() -> None:
        agen = bus.subscribe("anpr.")
        received.append(await asyncio.wait_for(agen.__anext__(), 10))
        await agen.aclose()

    fut = asyncio.run_coroutine_threadsafe(listen(), bus._loop)
    import time

    time.sleep(0.2)  # let the subscriber register
    read = {
        "plate": "苏e 12345",
        "ts": iso(T0_US),
        "lat": CENTER[0],
        "lon": CENTER[1],
        "camera_id": "CAM9",
    }
    r = client.post("/api/v1/anpr/reads", json=[read], headers=auth_headers("admin"))
    assert r.json()["alerts"] == 1
    fut.result(timeout=10)
    subject, event = received[0]
    assert subject == "anpr.alert"
    assert event["plate"] == "苏E12345" and event["reason"] == "stolen 2026-02-27"
    assert event["read"]["camera_id"] == "CAM9" and event["lat"] == CENTER[0]
    assert "units" in event
    with app.state.db.sessionmaker() as s:
        disclosed = s.scalars(select(AuditRecord).where(AuditRecord.resource == "anpr.alert")).all()
    assert [(d.action, d.purpose, d.case_id) for d in disclosed] == [
        ("disclosure", "hotlist_alert", f"hotlist:{event['hotlist_id']}")]
    r = client.get(
        "/api/v1/anpr/alerts",
        headers=auth_headers("dispatcher", case="OPS-1", purpose="hotlist_alert"),
    )
    assert r.status_code == 200 and r.json()["alerts"][0]["plate"] == "苏E12345"


PERSONAL = [
    (
        "POST",
        "/api/v1/anpr/associate",
        {
            "lat": 31.3,
            "lon": 120.6,
            "radius_km": 5,
            "start": iso(T0_US),
            "end": iso(T0_US + 7_200_000_000),
        },
        "anpr.associate",
    ),
    (
        "POST",
        "/api/v1/anpr/series",
        {
            "cases": [
                {
                    "case_id": "A",
                    "lat": 31.3,
                    "lon": 120.6,
                    "start": iso(T0_US),
                    "end": iso(T0_US + 7_200_000_000),
                }
            ],
            "min_cases": 1,
        },
        "anpr.series",
    ),
    (
        "GET",
        f"/api/v1/anpr/trajectory/苏E00001?start={iso(T0_US)}&end={iso(T0_US + 86_400_000_000)}&paths=false",
        None,
        "anpr.trajectory",
    ),
    (
        "GET",
        f"/api/v1/anpr/convoy/苏E00001?start={iso(T0_US)}&end={iso(T0_US + 86_400_000_000)}",
        None,
        "anpr.convoy",
    ),
    (
        "GET",
        f"/api/v1/anpr/cloned?start={iso(T0_US)}&end={iso(T0_US + 86_400_000_000)}",
        None,
        "anpr.cloned",
    ),
    ("GET", "/api/v1/anpr/person-vehicles?min_vehicles=2&days=9", None, "anpr.person_links"),
    ("GET", "/api/v1/anpr/hotlist", None, "anpr.hotlist"),
    ("GET", "/api/v1/anpr/alerts", None, "anpr.alerts"),
    ("POST", "/api/v1/anpr/case-reads", {"rids": [1]}, "anpr.case_reads"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "resource"), PERSONAL, ids=[p[3] for p in PERSONAL]
)
def test_personal_data_route_refuses_without_case_or_purpose_and_audits_success(
    app: FastAPI,
    client: TestClient,
    auth_headers: Headers,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    resource: str,
) -> None:
    client.post("/api/v1/anpr/reads", json=random_reads(200, seed=5), headers=auth_headers("admin"))
    plain = auth_headers("analyst")
    for headers in (
        plain,
        {**plain, "X-Case-Id": "CASE-7"},
        {**plain, "X-Purpose": "investigation"},
    ):
        before = len(audits(app, outcome="refused", resource=resource))
        r = client.request(method, path, json=body, headers=headers)
        assert r.status_code == 403, r.text
        assert len(audits(app, outcome="refused", resource=resource)) == before + 1
    r = client.request(method, path, json=body, headers=auth_headers("analyst", **CASE))
    assert r.status_code == 200, r.text
    ok = audits(app, outcome="ok", resource=resource, case_id="CASE-ANPR-1")
    assert len(ok) == 1 and ok[0].purpose == "investigation"
    payload = r.json()
    listed = next((v for k, v in payload.items() if isinstance(v, list)), None)
    if resource not in ("anpr.case_reads",) and listed is not None:
        assert ok[0].result_count == len(listed)


def test_ingest_refused_for_roles_without_collection_right(
    client: TestClient, auth_headers: Headers
) -> None:
    r = client.post("/api/v1/anpr/reads", json=[], headers=auth_headers("call_taker"))
    assert r.status_code == 403


def test_associate_over_api_matches_format(client: TestClient, auth_headers: Headers) -> None:
    rows = random_reads(500, seed=9, days=1)
    client.post("/api/v1/anpr/reads", json=rows, headers=auth_headers("admin"))
    r = client.post(
        "/api/v1/anpr/associate",
        json={
            "lat": rows[0]["lat"],
            "lon": rows[0]["lon"],
            "radius_km": 3,
            "start": iso(T0_US),
            "end": iso(T0_US + 86_400_000_000),
            "watchlist": [rows[0]["plate"]],
        },
        headers=auth_headers("analyst", **CASE),
    )
    body = r.json()
    assert body["scanned_reads"] > 0
    first = body["candidates"][0]
    assert first["plate"] == rows[0]["plate"] and first["on_watchlist"] is True
    assert set(first) >= {
        "plate",
        "reads",
        "first_seen",
        "last_seen",
        "min_distance_km",
        "on_watchlist",
        "score",
    }
    json.dumps(body)
