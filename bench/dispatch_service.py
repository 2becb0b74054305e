"""In-process service times of call creation and unit recommendation (no HTTP, no other load).

Complements ``dispatch_load.py``: on a shared, saturated machine the load benchmark measures
queueing; this measures what one request costs, as wall time and as the thread's own CPU time
(``time.thread_time``, which excludes time the OS gave to other processes).

Usage: ``./dev bench dispatch_service [--n 300] [--engines sqlite,postgresql]``

``--http N``: instead, the whole HTTP stack in-process (ASGI, no sockets; sync routes run inline):
N incidents each taken through call, recommendation, dispatch, acknowledge, arrive, clear and close
by tokens of 150 call-takers and 50 dispatchers, plus 10 unit positions per call, with 200 board
clients attached to the hub; prints CPU per request by kind (``time.process_time``: authentication,
validation, the change, the audit record, the event fan-out). ``--profile FILE`` writes cProfile
statistics of that run.
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

    from precinct.city.access import CityLink
    from precinct.city.road import RoadGraph
    from precinct.command.idempotency import run_idempotent
    from precinct.command.incidents import get_incident
    from precinct.command.intake import create_call
    from precinct.command.recommend import recommend
    from precinct.command.units import upsert_unit
    from precinct.core.db import Database

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


def run_http(engine: str, n: int, profile: str | None = None) -> None:
    """The HTTP stack in-process: CPU per request by kind (see the module docstring)."""
    import asyncio
    import cProfile
    import sys

    import fastapi.dependencies.utils
    import fastapi.routing
    import httpx

    async def inline(func, *a, **kw):  # type: ignore[no-untyped-def]
        return func(*a, **kw)

    fastapi.routing.run_in_threadpool = inline
    fastapi.dependencies.utils.run_in_threadpool = inline
    sys.path.insert(0, str(ROOT / "bench"))
    import dispatch_load as dl
    from precinct.app import create_app
    from precinct.city.road import RoadGraph
    from precinct.config import Settings

    cache = ROOT / "bench" / "out" / "city15_seed1.npz"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        RoadGraph.synthetic(size_km=15, seed=1).save(cache)
    work = Path(tempfile.mkdtemp())
    url, positions, cleanup = dl.prepare(engine, work, cache)
    tokens = dl.mint_tokens(url, [f"ct{i}" for i in range(150)] + [f"d{i}" for i in range(50)])
    settings = Settings(
        secret_key=dl.SECRET, token_ttl_minutes=240, idle_timeout_minutes=240, environment="test",
        database_url=url, data_dir=work,
    )  # fmt: skip
    app = create_app(settings)
    app.state.city = RoadGraph.load(cache)
    lat0, lon0, lat1, lon1 = app.state.city.bbox
    rng = random.Random(1)
    kinds: dict[str, list[float]] = {}

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            hub = app.state.board_hub
            board = [hub.connect() for _ in range(200)]

            async def drain(c):  # type: ignore[no-untyped-def]
                while True:
                    await c.queue.get()

            drains = [asyncio.create_task(drain(c)) for c in board]
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x/api/v1")

            async def req(kind: str, method: str, url: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
                c0 = time.process_time()
                r = await client.request(method, url, **kw)
                kinds.setdefault(kind, []).append(time.process_time() - c0)
                if r.status_code >= 400 and r.status_code != 409:
                    raise SystemExit(f"{kind}: {r.status_code} {r.text[:200]}")
                return r

            async def one(k: int) -> None:
                h = {"Authorization": f"Bearer {tokens[f'ct{k % 150}']}"}
                d = {"Authorization": f"Bearer {tokens[f'd{k % 50}']}"}
                body = {
                    "lat": rng.uniform(lat0, lat1), "lon": rng.uniform(lon0, lon1),
                    "type": rng.choice([t for t, _ in dl.TYPES]), "caller_phone": f"138{k:08d}",
                }  # fmt: skip
                r = await req("call", "POST", "/calls", json=body, headers={**h, "Idempotency-Key": f"k{k}"})
                iid = r.json()["incident_id"]
                r = await req("recommend", "GET", f"/incidents/{iid}/recommendations", headers=d)
                units = [u for p in r.json()["plan"] for u in p["suggested"]][:3]
                if units:
                    hd = {**d, "Idempotency-Key": f"d{k}"}
                    at = f"/incidents/{iid}/dispatch"
                    r = await req("dispatch", "POST", at, json={"unit_ids": units}, headers=hd)
                    if r.status_code == 201:
                        for step in ("acknowledge", "arrive"):
                            for u in units:
                                await req("status", "POST", f"/incidents/{iid}/{step}", json={"unit_id": u}, headers=d)
                        await req("status", "POST", f"/incidents/{iid}/clear", json={}, headers=d)
                        await req("close", "POST", f"/incidents/{iid}/close", json={"disposition": "ok"}, headers=d)
                for j in range(10):
                    i = (k * 10 + j) % len(positions)
                    la, lo = positions[i]
                    await req("position", "POST", f"/units/U{i:03d}/position", json={"lat": la, "lon": lo}, headers=d)

            for k in range(10):  # warm-up
                await one(k)
            kinds.clear()
            prof = cProfile.Profile() if profile else None
            c0 = time.process_time()
            if prof:
                prof.enable()
            for k in range(10, 10 + n):
                await one(k)
                await asyncio.sleep(0.11)  # the hub flushes to the 200 clients
            if prof and profile:
                prof.disable()
                prof.dump_stats(profile)
            cpu = time.process_time() - c0
            total = sum(len(v) for v in kinds.values())
            every = f"all ({total} requests, incl. fan-out to 200 board clients)"
            print(f"| {engine} | {every} | {cpu * 1000 / total:.2f} |")
            for kind, v in kinds.items():
                print(f"| {engine} | {kind} (n={len(v)}) | p50 {pct(v, 50):.2f}, p99 {pct(v, 99):.2f} |")
            for t in drains:
                t.cancel()
            await client.aclose()

    asyncio.run(scenario())
    app.state.db.dispose()
    cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--http", type=int, default=0, help="N incidents through the in-process HTTP stack")
    ap.add_argument("--profile", default=None, help="with --http: write cProfile statistics here")
    args = ap.parse_args()
    if args.http:
        print("| engine | request | server CPU ms per request |")
        print("|---|---|---|")
        for engine in args.engines.split(","):
            run_http(engine, args.http, args.profile)
        return
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
