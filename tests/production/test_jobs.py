"""Background jobs run on one worker at a time; migrations run once when workers start together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from precinct.core.jobs import Leadership

HERE = Path(__file__).resolve().parent


def test_one_leader_among_two_on_postgresql(pg_url: str) -> None:
    a, b = Leadership(pg_url, retry_s=0), Leadership(pg_url, retry_s=0)
    try:
        assert a.holds() and not b.holds()
        assert a.holds()  # re-checked, still held
        a.release()
        assert b.holds() and not a.holds()
    finally:
        a.release()
        b.release()


def test_one_leader_among_two_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    a, b = Leadership(url, retry_s=0), Leadership(url, retry_s=0)
    assert a.holds() and not b.holds()
    a.release()
    assert b.holds() and not a.holds()
    b.release()


def test_workers_starting_together_migrate_once(pg_url: str) -> None:
    start_at = time.time() + 4  # three worker processes start migrating within milliseconds
    code = ("import sys, time; from precinct.core.db import Database; db = Database(sys.argv[1]); "
            f"time.sleep(max(0, {start_at} - time.time())); db.migrate(); print('migrated')")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-800:] for _, err in outs]
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar() == 1
    engine.dispose()


def test_jobs_run_on_one_worker_and_move_when_it_is_killed(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE job_runs (pid integer, at double precision)"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(HERE / "jobworker.py"), pg_url], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "started"

        def runs() -> list[tuple[int, float]]:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT pid, at FROM job_runs ORDER BY at"))
                return [(int(r[0]), float(r[1])) for r in rows]

        deadline = time.monotonic() + 15
        while len(runs()) < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        leaders = {pid for pid, _ in runs()}
        assert len(leaders) == 1, f"jobs ran on {len(leaders)} workers at once"
        leader = leaders.pop()
        killed_at = time.time()
        os.kill(leader, signal.SIGKILL)
        survivor = next(p.pid for p in procs if p.pid != leader)
        deadline = time.monotonic() + 15
        while not any(pid == survivor for pid, _ in runs()) and time.monotonic() < deadline:
            time.sleep(0.1)
        after = [pid for pid, at in runs() if at > killed_at]
        assert after and set(after) == {survivor}
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        engine.dispose()
