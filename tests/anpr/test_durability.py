"""SIGKILL during ingest: every acknowledged read is present exactly once; imports are all-or-nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.warehouse import Warehouse
from support import free_port

from .conftest import DAY_US, T0_US, iso, to_csv

pytestmark = pytest.mark.slow
TEST_PASSWORD = "durable-password-1"


def make_user(db: Database, role: str) -> str:
    name = f"durable_{role}"
    with db.session() as s:
        create_user(s, username=name, role=role, password=TEST_PASSWORD)
    return name


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PRECINCT_DATA_DIR=str(settings.data_dir), PRECINCT_ENVIRONMENT="test")
    env.pop("PRECINCT_DATABASE_URL", None)
    return env


def _stored(settings: Settings) -> list[tuple[str, int]]:
    wh = Warehouse(Path(settings.data_dir) / "warehouse" / "precinct.duckdb")
    try:
        return [(r[0], r[1]) for r in wh.query("SELECT read_id, ts_us FROM anpr_reads")]
    finally:
        wh.close()


def _batch(k: int, n: int = 500) -> list[dict[str, Any]]:
    return [
        {
            "plate": f"K{(k * n + i) % 997:04d}",
            "ts": iso(T0_US + (k * n + i) * 1_000_000),
            "lat": 31.3,
            "lon": 120.6,
            "read_id": f"B{k}-{i}",
        }
        for i in range(n)
    ]


def test_sigkill_during_http_ingest_keeps_every_acknowledged_read_once(
    db: Database, settings: Settings
) -> None:
    user = make_user(db, "admin")
    db.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "precinct.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    acked: list[int] = []
    sent: list[int] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": user, "password": TEST_PASSWORD}
        ).json()["access_token"]
        stop = threading.Event()

        def sender() -> None:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
            ) as c:
                k = 0
                while not stop.is_set():
                    sent.append(k)
                    try:
                        r = c.post("/api/v1/anpr/reads", json=_batch(k))
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200 and r.json()["stored"] + r.json()["duplicates"] == 500:
                        acked.append(k)
                    k += 1

        t = threading.Thread(target=sender)
        t.start()
        while len(acked) < 5 and t.is_alive():
            time.sleep(0.05)
        time.sleep(0.15)  # kill mid-batch, most likely
        proc.send_signal(signal.SIGKILL)
        stop.set()
        t.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    assert len(acked) >= 5
    stored = _stored(settings)
    assert len(stored) == len(set(stored)), "a read is stored twice"
    ids = {rid for rid, _ in stored}
    for k in acked:
        assert all(f"B{k}-{i}" in ids for i in range(500)), f"acknowledged batch {k} lost"
    # a batch is all or nothing
    for k in sent:
        have = sum(1 for i in range(500) if f"B{k}-{i}" in ids)
        assert have in (0, 500)


def test_sigkill_during_cli_import_imports_nothing_then_retry_imports_once(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    user = make_user(db, "admin")
    db.dispose()
    rows = [
        {
            "plate": f"P{i % 5000:05d}",
            "ts": iso(T0_US + (i * 997) % (20 * DAY_US)),
            "lat": 31.3,
            "lon": 120.6,
            "read_id": f"F{i}",
        }
        for i in range(120_000)
    ]
    path = tmp_path / "reads.csv"
    path.write_bytes(to_csv(rows, ("plate", "ts", "lat", "lon", "read_id")))
    cmd = [
        str(Path(sys.executable).parent / "precinct"),
        "anpr",
        "import",
        str(path),
        "--as",
        user,
        "--chunk-rows",
        "30000",
    ]
    proc = subprocess.Popen(cmd, env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = Path(settings.data_dir) / "warehouse" / "precinct.duckdb.wal"
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:  # wait until it is writing
        if wal.exists() and wal.stat().st_size > 1_000_000:
            break
        time.sleep(0.02)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    stored = _stored(settings)
    # all or nothing: the kill may land before the commit (nothing) or, on a fast machine, just after
    # it (everything); never a part
    assert len(stored) in (0, len(rows)), f"{len(stored)} of {len(rows)} rows: a killed import was half-imported"
    if not killed:
        assert len(stored) == len(rows)
    out = subprocess.run(cmd, env=_env(settings), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "stored" in out.stdout
    stored = _stored(settings)
    assert len(stored) == len(rows) == len(set(stored))
    again = subprocess.run(
        [*cmd, "--format", "json"], env=_env(settings), capture_output=True, text=True, timeout=300
    )
    assert '"duplicates": 120000' in again.stdout
