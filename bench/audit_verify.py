"""Benchmark: verify a hash-chained audit log of N records (target: 1 million in under 10 s).

Builds the chain with the real append path's hash function (bulk-inserted for speed), then times
`precinct.core.audit.verify` — the code behind `precinct audit verify` — on SQLite and, when a
server answers, PostgreSQL. Peer: a plain `sha256sum`-style pass over the same rows exported as
text, to show what the floor for hashing alone is.

    ./dev bench audit_verify [--records 1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from precinct.core import audit
from precinct.core.db import Database


def build_chain(db: Database, n: int, batch: int = 50_000) -> None:
    prev = audit.GENESIS_HASH
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cols = (*audit.HASHED_FIELDS, "hash")
    sql = text(f"INSERT INTO audit_log ({','.join(cols)}) VALUES ({','.join(':' + c for c in cols)})")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(text("DELETE FROM audit_head"))
    rows = []
    for seq in range(1, n + 1):
        rec = {"seq": seq, "ts": (t0 + dt.timedelta(seconds=seq)).isoformat(timespec="microseconds"),
               "actor": f"analyst{seq % 50}", "role": "analyst", "action": "consultation",
               "resource": "anpr.associate",
               "params": audit.canonical_params({"lat": 32.49, "lon": 119.92, "radius_km": 5, "n": seq}),
               "result_count": seq % 97, "case_id": f"CASE-{seq % 1000}", "purpose": "investigation",
               "outcome": "ok", "prev_hash": prev}
        rec["hash"] = audit.record_hash(rec[f] for f in audit.HASHED_FIELDS)
        prev = rec["hash"]
        rows.append(rec)
        if len(rows) == batch:
            with db.engine.begin() as conn:
                conn.execute(sql, rows)
            rows = []
    with db.engine.begin() as conn:
        if rows:
            conn.execute(sql, rows)
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :s, :h)"), {"s": n, "h": prev})
    # audit_head was emptied above; the migration seeds it, the bench rewrites it


def hash_floor(db: Database) -> float:
    """Time to fetch every row and SHA-256 its raw text, without any chain logic (the floor)."""
    t = time.perf_counter()
    with db.engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=20_000).execute(
                text("SELECT * FROM audit_log ORDER BY seq")):
            hashlib.sha256(json.dumps(list(row), default=str).encode()).hexdigest()
    return time.perf_counter() - t


def run(name: str, db: Database, n: int) -> dict[str, float]:
    t = time.perf_counter()
    build_chain(db, n)
    build_s = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    single = audit.verify(db.engine)
    single_s, single_cpu = time.perf_counter() - t, time.process_time() - c
    assert single.ok, single
    t = time.perf_counter()
    result = audit.verify(db.engine, workers=os.cpu_count() or 1)
    verify_s = time.perf_counter() - t
    assert result.ok and result.checked == n, result
    floor_s = hash_floor(db)
    # CPU seconds are printed too: on a shared machine they show the cost that wall time hides
    print(f"{name:10s} records={n:,} build={build_s:.1f}s single-process={single_s:.2f}s "
          f"(cpu {single_cpu:.2f}s) "
          f"parallel verify={verify_s:.2f}s "
          f"({n / verify_s:,.0f}/s) fetch+hash floor={floor_s:.2f}s ratio={verify_s / floor_s:.2f}x")
    return {"verify_s": verify_s, "floor_s": floor_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--postgres", default=os.environ.get(
        "PRECINCT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    print(f"# audit verify benchmark {dt.date.today()} on {platform.node()} "
          f"({os.cpu_count()} cores, {platform.python_version()})")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.migrate()
        run("sqlite", db, args.records)
        db.dispose()
    try:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS precinct_bench_audit WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE precinct_bench_audit"))
    except Exception as exc:
        print(f"postgresql skipped: {type(exc).__name__}: {exc}")
        return
    from sqlalchemy.engine import make_url

    url = make_url(args.postgres).set(database="precinct_bench_audit").render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    run("postgresql", db, args.records)
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS precinct_bench_audit WITH (FORCE)"))


if __name__ == "__main__":
    main()
