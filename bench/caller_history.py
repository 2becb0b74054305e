"""Repeat-caller history (``GET /calls/history``): what the calls (caller_phone, received_at) index buys.

Builds ``--calls`` 110 calls (one incident each) spread over the year before a fixed ``now``: 5 %
without a number, 20 % from 1,000 frequent callers, the rest from a pool of a quarter as many numbers
as calls. Then times the product's own :func:`precinct.command.intake.caller_history` (a count and
the newest 50 rows of the last 30 days, joined to their incidents) for ``--lookups`` numbers (half
frequent callers, half others), first with migration 0026's index ``ix_calls_caller_phone_received``,
then on the same data with it dropped. One session per lookup, as the view opens; the audit record
the view writes is not part of the timing. Prints p50/p99 per side and the ratio.

SQLite in a temporary directory (deleted afterwards); with ``--pg URL`` also PostgreSQL, in a fresh
database ``precinct_bench_caller_<random>`` created beside the URL's and dropped afterwards (ANALYZE
after the load, as autovacuum would have by then; SQLite is not analysed: the product never does).

Usage: python bench/caller_history.py [--calls 1000000] [--lookups 200] [--pg postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from precinct.command import intake
from precinct.command.models import Call, Incident
from precinct.core.db import Database

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
INDEX = "ix_calls_caller_phone_received"
FREQUENT = 1_000
CHUNK = 20_000


def numbers(calls: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """The frequent callers' numbers and the others' (11-digit mobile numbers, distinct)."""
    pool = rng.sample(range(10**8), FREQUENT + max(1, calls // 4))
    as_phone = [f"138{n:08d}" for n in pool]
    return as_phone[:FREQUENT], as_phone[FREQUENT:]


def load(db: Database, calls: int, frequent: list[str], others: list[str], rng: random.Random) -> float:
    """Insert ``calls`` incidents and calls; returns the seconds it took."""
    t0 = time.perf_counter()
    span_s = 365 * 86400
    with db.engine.begin() as conn:
        for lo in range(0, calls, CHUNK):
            incidents: list[dict[str, Any]] = []
            rows: list[dict[str, Any]] = []
            for i in range(lo, min(calls, lo + CHUNK)):
                at = NOW - dt.timedelta(seconds=rng.randrange(span_s))
                r = rng.random()
                phone = None if r < 0.05 else rng.choice(frequent) if r < 0.25 else rng.choice(others)
                iid = f"I{i:09d}"
                incidents.append({"id": iid, "type": "theft", "category": "criminal", "priority": "P3",
                                  "status": "closed", "summary": "", "source": "call", "created_by": "bench",
                                  "created_at": at, "updated_at": at})
                rows.append({"id": f"C{i:09d}", "incident_id": iid, "received_at": at, "caller_phone": phone,
                             "type": "theft", "priority": "P3", "description": "", "created_by": "bench"})
            conn.execute(insert(Incident), incidents)
            conn.execute(insert(Call), rows)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE incidents"))
            conn.execute(text("ANALYZE calls"))
    return time.perf_counter() - t0


def time_lookups(db: Database, wanted: list[str]) -> tuple[list[float], int]:
    """Milliseconds per lookup (after 10 untimed ones) and the calls found in all."""
    found = 0
    for number in wanted[:10]:
        with db.session() as s:
            intake.caller_history(s, number=number, now=NOW)
    ms: list[float] = []
    for number in wanted:
        with db.session() as s:
            t0 = time.perf_counter()
            out = intake.caller_history(s, number=number, now=NOW)
            ms.append((time.perf_counter() - t0) * 1000)
        found += out["count"]
    return ms, found


def pct(ms: list[float], q: float) -> float:
    s = sorted(ms)
    return s[min(len(s) - 1, int(q * len(s)))]


def run(label: str, db: Database, args: argparse.Namespace) -> list[str]:
    rng = random.Random(23)
    db.migrate()
    frequent, others = numbers(args.calls, rng)
    secs = load(db, args.calls, frequent, others, rng)
    half = args.lookups // 2
    wanted = rng.sample(frequent, min(half, len(frequent))) + rng.sample(others, args.lookups - half)
    rng.shuffle(wanted)
    with_ms, found = time_lookups(db, wanted)
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP INDEX {INDEX}"))
    without_ms, found_without = time_lookups(db, wanted)
    if found != found_without:
        raise SystemExit(f"{label}: the sides disagree ({found} calls found with the index, {found_without} without)")
    with db.engine.begin() as conn:  # the schema as the migrations left it
        conn.execute(text(f"CREATE INDEX {INDEX} ON calls (caller_phone, received_at)"))
    print(f"{label}: {args.calls:,} calls loaded in {secs:.0f} s; {len(wanted)} lookups, "
          f"{found / len(wanted):.1f} calls in the 30-day window per number on average")
    rows = []
    for side, ms in (("with index", with_ms), ("index dropped", without_ms)):
        rows.append(f"| {label} | {side} | {pct(ms, 0.5):.2f} | {pct(ms, 0.99):.2f} | {statistics.fmean(ms):.2f} |")
    rows.append(f"| {label} | ratio (dropped / with) | {pct(without_ms, 0.5) / pct(with_ms, 0.5):.0f}x | "
                f"{pct(without_ms, 0.99) / pct(with_ms, 0.99):.0f}x | "
                f"{statistics.fmean(without_ms) / statistics.fmean(with_ms):.0f}x |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--lookups", type=int, default=200)
    ap.add_argument("--pg", default=None, help="PostgreSQL URL (a fresh database is made beside it)")
    args = ap.parse_args()
    table = ["| engine | index | p50 ms | p99 ms | mean ms |", "|---|---|---|---|---|"]
    tmp = Path(tempfile.mkdtemp(prefix="precinct_bench_caller_"))
    db = Database(f"sqlite:///{tmp / 'ops.db'}")
    try:
        table += run("SQLite", db, args)
    finally:
        db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.pg:
        name = f"precinct_bench_caller_{uuid.uuid4().hex[:12]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        pg = Database(make_url(args.pg).set(database=name).render_as_string(hide_password=False))
        try:
            table += run("PostgreSQL", pg, args)
        finally:
            pg.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("\n".join(table))


if __name__ == "__main__":
    main()
