"""Readiness names the database, the bus and the warehouse; a pool worker never opens the warehouse."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from precinct.app import create_app
from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.warehouse import Warehouse
from precinct.errors import NotReady


def test_ready_reports_each_part(client: TestClient) -> None:
    r = client.get("/api/v1/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["database"] == "sqlite" and body["bus"] == "InProcessBus"
    assert body["warehouse"] in ("open in this worker", "not open in this worker")


def test_a_pool_worker_leaves_the_warehouse_to_its_process(settings: Settings, db: Database) -> None:
    pool = settings.model_copy(update={"warehouse_here": False})
    with pytest.raises(NotReady, match="warehouse process"):
        Warehouse.for_settings(pool)
    with TestClient(create_app(pool, db=db), raise_server_exceptions=False) as client:
        r = client.get("/api/v1/ready")
    assert r.status_code == 200 and r.json()["warehouse"] == "served by the warehouse process"
