"""SIGKILL the API server while clients create calls and dispatch with idempotency keys.

After a restart every acknowledged call and dispatch is present exactly once, and every request
retried with its key got the same answer. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from precinct.command.models import Assignment, Call, IdempotencyKey
from precinct.command.units import upsert_unit
from precinct.core.db import Database
from precinct.core.identity import create_user
from support import free_port

BASE = (32.49, 119.92)
CLIENTS = 4
PER_CLIENT = 10


def _start(url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PRECINCT_DATABASE_URL": url,
        "PRECINCT_DATA_DIR": str(data_dir),
        "PRECINCT_ENVIRONMENT": "test",
        "PRECINCT_SECRET_KEY": "crash-test-secret-0123456789abcdef",
    }
    env.pop("PRECINCT_BUS_URL", None)
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
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start")


def _retry(client: httpx.Client, method: str, url: str, stop: float, **kw: object) -> httpx.Response:
    """Repeat a request (same Idempotency-Key) until the server answers something other than 5xx."""
    while time.monotonic() < stop:
        try:
            r = client.request(method, url, **kw)  # type: ignore[arg-type]
            if r.status_code < 500:
                return r
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no answer for {method} {url}")


@pytest.mark.slow
def test_sigkill_mid_load_loses_and_duplicates_nothing(any_db: Database, tmp_path: Path) -> None:
    with any_db.session() as s:
        for role in ("call_taker", "dispatcher"):
            create_user(s, username=f"crash_{role}", role=role, password="test-password-123")
        for i in range(CLIENTS * PER_CLIENT):
            upsert_unit(s, id=f"U{i:03d}", unit_type="patrol", lat=BASE[0] + 0.0001 * i, lon=BASE[1])
    # a small city, stored where the server looks for it (no 15 km default build)
    from precinct.city import RoadGraph
    from precinct.city.service import store
    from precinct.config import Settings

    store(
        RoadGraph.synthetic(size_km=3, seed=1, center=BASE),
        {"source": "synthetic", "size_km": 3},
        Settings(data_dir=tmp_path / "var"),
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    proc = _start(any_db.url, tmp_path / "var", port)
    tokens = {}
    for role in ("call_taker", "dispatcher"):
        r = httpx.post(f"{base}/auth/token", data={"username": f"crash_{role}", "password": "test-password-123"})
        tokens[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    acknowledged_calls: dict[str, str] = {}
    acknowledged_dispatch: dict[str, str] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + 240

    def worker(w: int) -> None:
        with httpx.Client(timeout=10) as c:
            for i in range(PER_CLIENT):
                n = w * PER_CLIENT + i
                body = {
                    "lat": BASE[0],
                    "lon": BASE[1] + 0.0001 * n,
                    "type": "theft",
                    "caller_phone": f"1380000{n:04d}",
                    "description": f"crash test {n}",
                }
                first_id = None
                for attempt in range(2):  # the second time is a pure replay
                    r = _retry(
                        c,
                        "POST",
                        f"{base}/calls",
                        stop,
                        json=body,
                        headers={**tokens["call_taker"], "Idempotency-Key": f"call-{n}"},
                    )
                    if r.status_code != 201:
                        errors.append(f"call {n}: {r.status_code} {r.text[:200]}")
                        return
                    first_id = first_id or r.json()["id"]
                    if r.json()["id"] != first_id:
                        errors.append(f"call {n}: replay gave {r.json()['id']} not {first_id}")
                    if attempt == 0:
                        with lock:
                            acknowledged_calls[f"call-{n}"] = first_id
                        if n % 3:
                            break
                incident = r.json()["incident_id"]
                r = _retry(
                    c,
                    "POST",
                    f"{base}/incidents/{incident}/dispatch",
                    stop,
                    json={"unit_ids": [f"U{n:03d}"]},
                    headers={**tokens["dispatcher"], "Idempotency-Key": f"disp-{n}"},
                )
                if r.status_code != 201:
                    errors.append(f"dispatch {n}: {r.status_code} {r.text[:200]}")
                    return
                with lock:
                    acknowledged_dispatch[incident] = f"U{n:03d}"

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        while len(acknowledged_calls) < CLIENTS * PER_CLIENT // 4 and time.monotonic() < stop:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # mid-load: requests are in flight
        proc.wait(10)
        killed_at = len(acknowledged_calls)
        proc = _start(any_db.url, tmp_path / "var", port)
        for t in threads:
            t.join(timeout=max(1.0, stop - time.monotonic()))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert not errors, errors
    assert 0 < killed_at < CLIENTS * PER_CLIENT
    total = CLIENTS * PER_CLIENT
    assert len(acknowledged_calls) == total and len(acknowledged_dispatch) == total
    with any_db.sessionmaker() as s:
        calls = s.execute(select(Call.id, Call.incident_id, Call.description)).all()
        assert len(calls) == total  # no call twice, none lost
        assert {c.id for c in calls} == set(acknowledged_calls.values())
        keys = s.scalar(select(func.count()).select_from(IdempotencyKey))
        assert keys == 2 * total
        rows = s.execute(select(Assignment.incident_id, Assignment.unit_id)).all()
        assert len(rows) == total
        assert {r.incident_id: r.unit_id for r in rows} == acknowledged_dispatch
