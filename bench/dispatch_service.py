"""In-process service times of call creation and unit recommendation (no HTTP, no other load).

Complements ``dispatch_load.py``: on a shared, saturated machine the load benchmark measures
queueing; this measures what one request costs, as wall time and as the thread's own CPU time
(``time.thread_time``, which excludes time the OS gave to other processes).

Usage: ``./dev bench dispatch_service [--n 300] [--engines sqlite,postgresql]``
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pct(xs: list[float], q: float) -> float:
    v = sorted(xs)
    return v[min(len(v) - 1, round(q / 100 * (len(v) - 1)))] * 1000


def run(engine: str, n: int) -> dict[str, float]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from precinct.calls.citylink import CityLink
    from precinct.calls.idempotency import run_idempotent
    from precinct.calls.service import create_call, get_incident
    from precinct.city.road import RoadGraph
    from precinct.core.db import Database
    from precinct.dispatch.recommend import recommend
    from precinct.dispatch.service import upsert_unit

    cache = ROOT / "bench" / "out" / "city15_seed1.npz"
    city = RoadGraph.load(cache) if cache.exists() else RoadGraph.synthetic(size_km=15, seed=1)
    link = CityLink(city)
    lat0, lon0, lat1, lon1 = city.bbox
    admin = None
    if engine == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/svc.db"
    else:
        base = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        name = f"precinct_svc_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    rng = random.Random(3)
    with db.session() as s:
        for i in range(300):
            upsert_unit(
                s,
                id=f"U{i:03d}",
                unit_type="patrol" if i < 240 else "special",
                lat=rng.uniform(lat0, lat1),
                lon=rng.uniform(lon0, lon1),
            )
    call_wall, call_cpu, rec_wall, rec_cpu, ids = [], [], [], [], []
    for i in range(n + 20):
        body = {"lat": rng.uniform(lat0, lat1), "lon": rng.uniform(lon0, lon1)}
        w, c = time.perf_counter(), time.thread_time()

        def action(s, body=body):  # type: ignore[no-untyped-def]
            res = create_call(
                s,
                actor="ct",
                role="call_taker",
                city=CityLink(None),
                type="armed_robbery",
                caller_phone="13800000000",
                **body,
            )
            return {"id": res.call.id, "incident_id": res.incident.id}

        out = run_idempotent(db, scope="ct:POST /calls", key=f"k{i}", payload=body, action=action)
        if i >= 20:
            call_wall.append(time.perf_counter() - w)
            call_cpu.append(time.thread_time() - c)
        ids.append(out.body["incident_id"])
    for i, iid in enumerate(ids):
        w, c = time.perf_counter(), time.thread_time()
        with db.sessionmaker() as s:
            recommend(s, incident=get_incident(s, iid), city=link)
        if i >= 20:
            rec_wall.append(time.perf_counter() - w)
            rec_cpu.append(time.thread_time() - c)
    db.dispose()
    if admin is not None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return {
        "call_wall_p50": pct(call_wall, 50),
        "call_wall_p99": pct(call_wall, 99),
        "call_cpu_p50": pct(call_cpu, 50),
        "call_cpu_p99": pct(call_cpu, 99),
        "rec_wall_p50": pct(rec_wall, 50),
        "rec_wall_p99": pct(rec_wall, 99),
        "rec_cpu_p50": pct(rec_cpu, 50),
        "rec_cpu_p99": pct(rec_cpu, 99),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--engines", default="sqlite,postgresql")
    args = ap.parse_args()
    print("| engine | call creation wall p50 / p99 | CPU p50 / p99 | recommendation wall p50 / p99 | CPU p50 / p99 |")
    print("|---|---|---|---|---|")
    for engine in args.engines.split(","):
        r = run(engine, args.n)
        print(
            f"| {engine} | {r['call_wall_p50']:.1f} / {r['call_wall_p99']:.1f} ms | {r['call_cpu_p50']:.1f} / "
            f"{r['call_cpu_p99']:.1f} ms | {r['rec_wall_p50']:.1f} / {r['rec_wall_p99']:.1f} ms | "
            f"{r['rec_cpu_p50']:.1f} / {r['rec_cpu_p99']:.1f} ms |",
            flush=True,
        )


if __name__ == "__main__":
    main()
