"""Two API workers on PostgreSQL + JetStream; one is SIGKILLed under a call-creation load. Clients
retry to the other worker with the same Idempotency-Key: every acknowledged call is stored exactly
once, and no call is stored that was never acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from precinct.core.db import Database
from precinct.core.identity import create_user

from .conftest import NatsServer, free_port, wait_port

PASSWORD = "test-password-123"
CLIENTS = 4


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "precinct", "serve", "--port", str(self.port)],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, timeout=60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


@pytest.fixture
def two_workers(pg_url: str, nats_server: NatsServer, tmp_path: Path) -> Iterator[list[Worker]]:
    db = Database(pg_url)
    db.migrate()
    with db.session() as s:
        create_user(s, username="taker", role="call_taker", password=PASSWORD)
    db.dispose()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PRECINCT_DATABASE_URL": pg_url,
           "PRECINCT_BUS_URL": f"{nats_server.url}/faults", "PRECINCT_DATA_DIR": str(tmp_path / "var"),
           "PRECINCT_ENVIRONMENT": "test"}
    workers = [Worker(env, tmp_path / f"worker{i}.log") for i in range(2)]
    try:
        yield workers
    finally:
        for w in workers:
            w.stop()


def test_sigkill_one_worker_under_call_load(two_workers: list[Worker], pg_url: str) -> None:
    a, b = two_workers
    token = httpx.post(f"{a.url}/api/v1/auth/token", data={"username": "taker", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    acknowledged: dict[str, str] = {}  # idempotency key -> call id
    sent: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def client(n: int) -> None:
        urls = [a.url, b.url] if n % 2 == 0 else [b.url, a.url]
        with httpx.Client(timeout=10) as http:
            i = 0
            while not stop.is_set():
                key = uuid.uuid4().hex
                body = {"lat": 32.05 + (i % 97) * 1e-3, "lon": 118.78 + (n * 31 + i) % 89 * 1e-3,
                        "type": "theft", "description": f"client {n} call {i}"}
                with lock:
                    sent.add(key)
                for attempt in range(20):  # the same key, to this worker or the other
                    url = urls[(i + attempt) % 2]
                    try:
                        r = http.post(f"{url}/api/v1/calls", json=body,
                                      headers={**headers, "Idempotency-Key": key})
                    except httpx.TransportError:
                        time.sleep(0.05)
                        continue
                    if r.status_code in (200, 201):
                        with lock:
                            acknowledged[key] = r.json()["id"]
                        break
                    if r.status_code < 500:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                        break
                else:
                    errors.append(f"call {key} never acknowledged")
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    while len(acknowledged) < 40:
        time.sleep(0.05)
    os.kill(a.proc.pid, signal.SIGKILL)  # mid-load, no warning
    killed_at = len(acknowledged)
    deadline = time.monotonic() + 20
    while len(acknowledged) < killed_at + 60 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors[:5]
    assert len(acknowledged) >= killed_at + 60  # the survivor took the load

    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id FROM calls")).scalars().all()
        keys = conn.execute(text("SELECT key FROM idempotency_keys WHERE status_code = 201")).scalars().all()
    engine.dispose()
    assert len(rows) == len(set(rows))
    assert set(acknowledged.values()) <= set(rows)  # every acknowledged call is there
    assert len(rows) == len(acknowledged) == len(set(acknowledged.values()))  # once each, nothing extra
    assert set(keys) == set(acknowledged)
