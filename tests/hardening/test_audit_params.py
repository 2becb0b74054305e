"""An auditor can answer "who looked up plate X, when and why" from the audit records."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.config import Settings
from precinct.core.models import AuditRecord
from precinct.core.warehouse import Warehouse


@pytest.fixture(autouse=True)
def _close_warehouse(settings: Settings) -> Iterator[None]:
    yield
    Warehouse.close_for(settings)


def test_one_plate_watchlist_association_names_the_plate(
    app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]],
) -> None:
    reads = [{"plate": "苏E12345", "ts": "2026-03-02T08:00:00Z", "lat": 31.3, "lon": 120.6,
              "camera_id": "CAM1", "read_id": "R1", "kind": "plate", "confidence": 0.9},
             {"plate": "苏E99999", "ts": "2026-03-02T08:05:00Z", "lat": 31.3, "lon": 120.6,
              "camera_id": "CAM1", "read_id": "R2", "kind": "plate", "confidence": 0.9}]
    r = client.post("/api/v1/anpr/reads", json=reads, headers=auth_headers("admin"))
    assert r.status_code == 200, r.text
    h = auth_headers("analyst", case="CASE-H-1", purpose="investigation")
    r = client.post("/api/v1/anpr/associate", headers=h, json={
        "lat": 31.3, "lon": 120.6, "radius_km": 1, "start": "2026-03-02T07:00:00Z",
        "end": "2026-03-02T09:00:00Z", "watchlist": ["苏E12345"], "only_watchlist": True})
    assert r.status_code == 200, r.text
    # the auditor's question, answered from the stored records alone
    with app.state.db.sessionmaker() as s:
        hits = s.scalars(select(AuditRecord).where(AuditRecord.params.contains("苏E12345"),
                                                   AuditRecord.resource.like("anpr%"),
                                                   AuditRecord.outcome == "ok")).all()
    lookups = [a for a in hits if a.action == "consultation"]
    assert len(lookups) == 1
    assert lookups[0].case_id == "CASE-H-1" and lookups[0].purpose == "investigation"
    assert lookups[0].actor.startswith("analyst")
    with app.state.db.sessionmaker() as s:
        other = s.scalars(select(AuditRecord).where(AuditRecord.params.contains("苏E99999"),
                                                    AuditRecord.action == "consultation")).all()
    assert other == []  # the plate nobody looked up is not named
