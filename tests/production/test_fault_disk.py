"""The warehouse disk full: ingest refuses with a clear error and nothing of the batch is stored.

The disk is a real, small tmpfs mounted on the warehouse directory (needs root and the mount
capability; skipped with the reason otherwise), so the failures come from the kernel (ENOSPC),
not from an injected exception.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from precinct.config import Settings
from precinct.core import warehouse
from precinct.core.models import AuditRecord
from precinct.core.warehouse import Warehouse


def reads(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"plate": f"SU{i:07d}", "ts": f"2026-03-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
             "lat": 32.0 + (i % 1000) * 1e-4, "lon": 118.7 + (i % 777) * 1e-4, "camera_id": f"C{i % 50}",
             "read_id": f"R{i}"} for i in range(start, start + n)]


@pytest.fixture
def small_disk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], Path]]:
    monkeypatch.setattr(warehouse, "RESERVE_BYTES", 16 << 20)  # the tests' disks are small
    mounted: list[Path] = []

    def mount(megabytes: int) -> Path:
        target = settings.data_dir / "warehouse"
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(target)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
        mounted.append(target)
        return target

    yield mount
    Warehouse.close_all()
    for target in mounted:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _count(settings: Settings) -> int:
    wh = Warehouse.for_settings(settings)
    return int(wh.query("SELECT count(*) FROM anpr_reads")[0][0])


def _collections(app: FastAPI) -> int:
    with app.state.db.sessionmaker() as s:
        return int(s.scalar(select(func.count()).select_from(AuditRecord)
                            .where(AuditRecord.action == "collection")) or 0)


def test_ingest_refused_before_work_when_the_reserve_is_gone(
    app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]], settings: Settings,
    small_disk: Callable[[int], Path],
) -> None:
    disk = small_disk(64)
    h = auth_headers("admin")
    assert client.post("/api/v1/anpr/reads", json={"reads": reads(500)}, headers=h).status_code == 200
    wh = Warehouse.for_settings(settings)
    wh.reserve_bytes = 16 << 20
    (disk / "ballast").write_bytes(b"\0" * (52 << 20))  # leaves less than the reserve
    before, audited = _count(settings), _collections(app)
    r = client.post("/api/v1/anpr/reads", json={"reads": reads(500, start=500)}, headers=h)
    assert r.status_code == 503 and r.json()["detail"]["reason"] == "disk_full"
    assert "disk is full" in r.json()["message"] and "nothing was written" in r.json()["message"]
    assert (_count(settings), _collections(app)) == (before, audited)
    r = client.get("/api/v1/ready")
    assert r.status_code == 503 and "warehouse" in r.json()["detail"]
    (disk / "ballast").unlink()  # space freed: the same batch goes in
    r = client.post("/api/v1/anpr/reads", json={"reads": reads(500, start=500)}, headers=h)
    assert r.status_code == 200 and r.json()["stored"] == 500


def test_a_batch_that_fills_the_disk_is_rolled_back_whole(
    app: FastAPI, client: TestClient, auth_headers: Callable[..., dict[str, str]], settings: Settings,
    small_disk: Callable[[int], Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(warehouse, "RESERVE_BYTES", 0)  # no reserve: the write itself meets the full disk
    disk = small_disk(12)
    h = auth_headers("admin")
    assert client.post("/api/v1/anpr/reads", json={"reads": reads(200)}, headers=h).status_code == 200
    Warehouse.for_settings(settings).checkpoint()
    free = shutil.disk_usage(disk).free
    (disk / "ballast").write_bytes(b"\0" * (free - (1 << 20)))  # 1 MiB left
    before, audited = _count(settings), _collections(app)
    r = client.post("/api/v1/anpr/reads", json={"reads": reads(150_000, start=200)}, headers=h)
    assert r.status_code == 503, r.text
    assert r.json()["detail"]["reason"] == "disk_full" and "nothing of it was stored" in r.json()["message"]
    assert (_count(settings), _collections(app)) == (before, audited)
    Warehouse.close_all()  # and after a reopen (the WAL replayed), still the same
    assert _count(settings) == before
