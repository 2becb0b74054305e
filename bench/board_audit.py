"""Live board: what the per-recipient audit of hotlist alerts costs.

``N`` dispatcher clients on one hub; ``A`` hotlist alerts published one every ``gap`` ms; each
client's deliveries are audited (one ``disclosure`` record per recipient and flush, one transaction
per flush) before they are handed over. Prints the publish-to-delivery latency (median, p99, max)
with and without the audit, and the audit records written. SQLite in a temporary directory, or
PostgreSQL with ``--pg URL``.

Usage: python bench/board_audit.py [--clients 200] [--alerts 300] [--gap-ms 10] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from precinct.command.board import BoardHub, write_disclosures
from precinct.command.board_policy import access_for
from precinct.core.bus import InProcessBus
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.models import AuditRecord
from precinct.core.roles import Role

AUDIT_S: list[float] = []


async def run(db: Database | None, clients: int, alerts: int, gap_s: float) -> list[float]:
    bus = InProcessBus()
    await bus.start()
    def auditor(disclosures: list) -> None:  # type: ignore[type-arg]
        t0 = time.perf_counter()
        write_disclosures(db, disclosures)  # type: ignore[arg-type]
        AUDIT_S.append(time.perf_counter() - t0)

    hub = BoardHub(bus, auditor=auditor if db is not None else None)
    await hub.start()
    await asyncio.sleep(0)
    latencies: list[float] = []
    done = asyncio.Event()
    remaining = [clients]

    async def drain(c) -> None:  # type: ignore[no-untyped-def]
        got = 0
        while got < alerts:
            chunk = await c.queue.get()
            now = time.perf_counter()
            for part in chunk.split(b'"sent":')[1:]:
                latencies.append(now - float(part.split(b",", 1)[0].split(b"}", 1)[0]))
                got += 1
        remaining[0] -= 1
        if not remaining[0]:
            done.set()

    board = [hub.connect(access=access_for(Principal(i, f"d{i}", Role.dispatcher, session_id=f"s{i}")))
             for i in range(clients)]
    tasks = [asyncio.create_task(drain(c)) for c in board]
    for k in range(alerts):
        bus.publish("anpr.alert", {"alert_id": k, "plate": f"苏A{k:05d}", "hotlist_id": 1,
                                   "sent": time.perf_counter()})
        await asyncio.sleep(gap_s)
    await asyncio.wait_for(done.wait(), 120)
    for t in tasks:
        t.cancel()
    await hub.stop()
    await bus.stop()
    return latencies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--alerts", type=int, default=300)
    ap.add_argument("--gap-ms", type=float, default=10.0)
    ap.add_argument("--pg", default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    db = Database(args.pg or f"sqlite:///{tmp / 'ops.db'}")
    db.migrate()
    for label, database in (("no audit", None), ("audited", db)):
        lat = sorted(asyncio.run(run(database, args.clients, args.alerts, args.gap_ms / 1000)))
        ms = [x * 1000 for x in lat]
        print(f"{label:9s} deliveries {len(ms):6d}  median {statistics.median(ms):6.1f} ms  "
              f"p99 {ms[int(len(ms) * 0.99) - 1]:6.1f} ms  max {ms[-1]:6.1f} ms")
    with db.sessionmaker() as s:
        n = s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "disclosure"))
    print(f"disclosure records: {n} ({args.clients} clients x flushes); engine {db.dialect}")
    print(f"first audit transaction {AUDIT_S[0] * 1000:.1f} ms (cold)")
    a = sorted(x * 1000 for x in AUDIT_S)
    print(f"audit transactions: {len(a)}, median {statistics.median(a):.1f} ms, max {a[-1]:.1f} ms "
          f"({n / len(a):.0f} records each on average)")
    db.dispose()


if __name__ == "__main__":
    main()
