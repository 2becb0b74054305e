"""SIGKILL during person–vehicle link ingest: every acknowledged link is stored exactly once, a batch is
all or nothing, and re-sending after the restart stores nothing twice (idempotent on link_id)."""

from __future__ import annotations

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
from precinct.core.warehouse import Warehouse
from support import free_port

from .conftest import T0_US, iso
from .test_durability import TEST_PASSWORD, _env, make_user

pytestmark = pytest.mark.slow
N = 400


def _links(k: int) -> list[dict[str, Any]]:
    return [{"link_id": f"L{k}-{i}", "person_id": f"P{(k * N + i) % 97}", "plate": f"T{(k * N + i) % 991:04d}",
             "ts": iso(T0_US + (k * N + i) * 1_000_000), "source": "tag-reader"} for i in range(N)]


def _stored(settings: Settings) -> list[str]:
    wh = Warehouse(Path(settings.data_dir) / "warehouse" / "precinct.duckdb")
    try:
        return [r[0] for r in wh.query("SELECT link_id FROM anpr_links")]
    finally:
        wh.close()


def _serve(settings: Settings) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "precinct.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)


def _token(base: str, user: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": user, "password": TEST_PASSWORD})
    return str(r.json()["access_token"])


def test_sigkill_during_links_ingest_keeps_every_acknowledged_link_once(db: Database, settings: Settings) -> None:
    user = make_user(db, "admin")
    db.dispose()
    acked: list[int] = []
    sent: list[int] = []
    proc, base = _serve(settings)
    try:
        token = _token(base, user)
        stop = threading.Event()

        def sender() -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
                k = 0
                while not stop.is_set():
                    sent.append(k)
                    try:
                        r = c.post("/api/v1/anpr/links", json={"links": _links(k)})
                    except httpx.HTTPError:
                        return
                    if r.status_code == 200 and r.json()["stored"] + r.json()["duplicates"] == N:
                        acked.append(k)
                    k += 1

        t = threading.Thread(target=sender)
        t.start()
        while len(acked) < 5 and t.is_alive():
            time.sleep(0.05)
        time.sleep(0.1)  # most likely mid-batch
        proc.send_signal(signal.SIGKILL)
        stop.set()
        t.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    assert len(acked) >= 5
    stored = _stored(settings)
    assert len(stored) == len(set(stored)), "a link is stored twice"
    ids = set(stored)
    for k in acked:
        assert all(f"L{k}-{i}" in ids for i in range(N)), f"acknowledged batch {k} lost"
    for k in sent:
        assert sum(1 for i in range(N) if f"L{k}-{i}" in ids) in (0, N), f"batch {k} half stored"
    # the sender retries everything it sent after the restart: nothing is stored twice
    proc, base = _serve(settings)
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {_token(base, user)}"}, timeout=30) as c:
            for k in sent:
                r = c.post("/api/v1/anpr/links", json={"links": _links(k)})
                assert r.status_code == 200, r.text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    after = _stored(settings)
    assert len(after) == len(set(after)) == len(sent) * N
