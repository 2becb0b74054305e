"""Fraud-wave detection benchmark: the check run after every report taken through the API.

Data (built here, seeded): ``--reports`` fraud reports (default 1,000,000) spread evenly over the
last ``--span-days`` days (default 90), 12 fraud types (skewed: the commonest ~7x the rarest),
``--clusters`` clusters, six channels; inserted straight into a migrated SQLite database.

Timed: :func:`precinct.fraud.waves.waves_of_reports` for one stored report (what the report route
runs after each report: the window's counts grouped in the database), ``--calls`` times with random
reports, p50/p99; and one full :func:`detect_waves` (``GET /fraud/waves``).

Run:  nice .venv/bin/python bench/fraud_waves.py [--reports 1000000] [--calls 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

TYPES = ("task_rebate", "fake_investment", "impersonating_authorities", "fake_customer_service", "fake_loan",
         "romance_investment", "fake_shopping", "fake_credit", "game_trading", "impersonating_acquaintance",
         "other", "fake_loan")
CHANNELS = ("call", "sms", "app", "website", "social", "other")


def build(db_path: Path, n: int, clusters: int, span_days: float, now: dt.datetime, seed: int = 1) -> float:
    from sqlalchemy import insert

    from precinct.core.db import Database
    from precinct.fraud.models import FraudCluster, FraudReport

    db = Database(f"sqlite:///{db_path}")
    db.migrate()
    rng = np.random.default_rng(seed)
    weights = np.linspace(7, 1, len(TYPES))
    types = rng.choice(len(TYPES), n, p=weights / weights.sum())
    cluster = rng.integers(1, clusters + 1, n)
    secs = rng.random(n) * span_days * 86400
    channel = rng.integers(0, len(CHANNELS), n)
    t0 = time.perf_counter()
    with db.session() as s:
        s.execute(insert(FraudCluster), [{"id": c, "case_id": f"C{c}", "first_report_id": f"F{c}", "status": "open",
                                          "report_count": 0, "loss_cents": 0, "first_ts": now, "last_ts": now}
                                         for c in range(1, clusters + 1)])
    step = 50_000
    for start in range(0, n, step):
        rows = [{"id": f"R{i}", "case_id": f"C{cluster[i]}", "cluster_id": int(cluster[i]),
                 "ts": now - dt.timedelta(seconds=float(secs[i])), "fraud_type": TYPES[types[i]],
                 "channel": CHANNELS[channel[i]], "loss_cents": 10_000, "currency": "CNY", "created_by": "bench",
                 "created_at": now} for i in range(start, min(n, start + step))]
        with db.session() as s:
            s.execute(insert(FraudReport), rows)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--clusters", type=int, default=250_000)
    ap.add_argument("--span-days", type=float, default=90.0)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--threshold", type=int, default=10)
    ap.add_argument("--days", type=float, default=7.0)
    args = ap.parse_args()
    from precinct.core.db import Database
    from precinct.fraud.waves import detect_waves, waves_of_reports

    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ops.db"
        load_s = build(path, args.reports, args.clusters, args.span_days, now)
        print(f"built {args.reports:,} reports in {args.clusters:,} clusters over {args.span_days:g} days "
              f"in {load_s:.1f} s")
        db = Database(f"sqlite:///{path}")
        rng = np.random.default_rng(2)
        times, found = [], 0
        for i in rng.integers(0, args.reports, args.calls):
            t = time.perf_counter()
            with db.sessionmaker() as s:
                found += len(waves_of_reports(s, report_ids=[f"R{i}"], threshold=args.threshold, days=args.days,
                                              now=now))
            times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        with db.sessionmaker() as s:
            every = detect_waves(s, threshold=args.threshold, days=args.days, now=now)
        full_ms = (time.perf_counter() - t) * 1000
    p50, p99 = np.percentile(times, [50, 99])
    print(f"waves_of_reports (one report, window {args.days:g} days, threshold {args.threshold}): "
          f"p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {max(times):.1f} ms  ({found} waves found in {args.calls} calls)")
    print(f"detect_waves (all): {full_ms:.1f} ms, {len(every)} waves "
          f"({sum(w['kind'] == 'type' for w in every)} types, {sum(w['kind'] == 'cluster' for w in every)} clusters)")
    print(f"load at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
