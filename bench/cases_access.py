"""Benchmark: what the case check adds to every personal-data read.

Times ``precinct.core.access.check_purpose`` — the check behind every ``personal_data`` route and
``cli_grant`` — with the cases domain's checker (case exists, open, caller on it, purpose fits the
type: three indexed lookups) against the same function with the pre-issue-14 behaviour (any 2-128
character text passes) in the same run, over a registry of ``--cases`` cases with ``--members``
members each, on SQLite and, when a server answers, PostgreSQL. Prints microseconds per check and
the ratio.

    .venv/bin/python bench/cases_access.py [--cases 10000] [--members 20] [--checks 3000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from precinct.cases import gate
from precinct.cases.models import Case, CaseMember
from precinct.core import access
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.roles import Role


def fill(db: Database, n_cases: int, n_members: int) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    ids = [f"C20260101-{i:05d}" for i in range(n_cases)]
    with db.engine.begin() as conn:
        conn.execute(insert(Case), [
            {"id": cid, "ref": None, "title": "t", "type": "theft", "status": "open", "stage": "registered",
             "stage_since": now, "lead": "lead0", "summary": "", "origin": "bench", "created_by": "bench",
             "created_at": now} for cid in ids])
        conn.execute(insert(CaseMember), [
            {"case_id": cid, "username": f"analyst{(i + j) % 500}", "added_by": "bench", "added_at": now}
            for i, cid in enumerate(ids) for j in range(n_members)])
    return ids


def time_checks(db: Database, ids: list[str], n: int, *, with_cases: bool) -> float:
    access.set_case_checker(gate.check if with_cases else (lambda *_a: None))
    who = [Principal(user_id=0, username=f"analyst{i % 500}", role=Role.analyst) for i in range(n)]
    # cases the caller is on, spread over the registry (allowed reads: the common path);
    # case k has members analyst{(k + j) % 500}, so analyst{i % 500} is on every case k = i (mod 500)
    blocks = max(1, len(ids) // 500)
    picks = [ids[(i % 500 + 500 * ((i * 7919) % blocks)) % len(ids)] for i in range(n)]
    for i in range(50):  # warm the connection pool and the statement cache
        access.check_purpose(db, who[i], resource="bench", case_id=picks[i], purpose="investigation")
    t0 = time.perf_counter()
    for p, c in zip(who, picks, strict=True):
        access.check_purpose(db, p, resource="bench", case_id=c, purpose="investigation")
    return (time.perf_counter() - t0) / n * 1e6


def run(db: Database, name: str, args: argparse.Namespace) -> None:
    db.migrate()
    ids = fill(db, args.cases, args.members)
    free = time_checks(db, ids, args.checks, with_cases=False)
    cased = time_checks(db, ids, args.checks, with_cases=True)
    free2 = time_checks(db, ids, args.checks, with_cases=False)  # again, to see the noise
    base = min(free, free2)
    print(f"{name}: free-text check {base:.1f} µs (runs {free:.1f}, {free2:.1f}); with the case check "
          f"{cased:.1f} µs; ratio {cased / base:.2f}x; added {cased - base:.1f} µs per personal-data read")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--checks", type=int, default=3000)
    ap.add_argument("--postgres", default=os.environ.get("PRECINCT_TEST_POSTGRES_URL",
                                                         "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; {args.cases} cases x {args.members} members, {args.checks} checks")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        run(db, "SQLite", args)
        db.dispose()
    name = f"precinct_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL: skipped ({type(exc).__name__})")
        return
    try:
        db = Database(args.postgres.rsplit("/", 1)[0] + f"/{name}")
        run(db, "PostgreSQL", args)
        db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
