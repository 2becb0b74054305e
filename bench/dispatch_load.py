"""Command-and-dispatch load: 150 call-takers, 50 dispatchers, 200 live-board clients, on loopback.

Three processes besides this one: the API server (uvicorn, ``--workers`` worker processes; with
more than one they share the live board's events through NATS at ``PRECINCT_BENCH_NATS_URL``,
default nats://127.0.0.1:4222), the load driver (the call-takers and dispatchers, asyncio + httpx)
and the board listener (200 SSE clients on raw sockets). Each run: a fresh database (SQLite file or
a new PostgreSQL database), the default 15 km synthetic city, 300 units, then ``--seconds`` of
load at the given call rate.

A *busy city* is taken as 1 call per second at the peak: a city of about ten million people
receives 20,000-30,000 110 calls a day and its peak hour is about twice the mean
(30,000 / 86,400 x 2 = 0.7/s, rounded up). Each call is then recommended, dispatched,
acknowledged, arrived, cleared and closed by a dispatcher (about 10 board events per call), and
the 300 units each post a position every 30 s (10 per second).

Usage::

    .venv/bin/python bench/dispatch_load.py --seconds 30              # SQLite and PostgreSQL, 1x and 10x
    .venv/bin/python bench/dispatch_load.py --workers 1,2 --seconds 30  # also two workers (NATS)
    .venv/bin/python bench/dispatch_load.py --engines sqlite --rates 10 --profile /tmp/srv.prof
    ... --write-docs     # put the table between the markers in docs/BENCHMARKS.md (issue 5)

Figures: call creation p99 (POST /calls until the 201), recommendation p99
(GET /incidents/{id}/recommendations), live-board delivery p99 (commit -> event parsed by each
of the 200 clients), errors, and lost calls (acknowledged calls missing from the database).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-123"
CALL_TAKERS, DISPATCHERS, BOARD_CLIENTS, UNITS = 150, 50, 200, 300
NATS_URL = os.environ.get("PRECINCT_BENCH_NATS_URL", "nats://127.0.0.1:4222")
PG_ADMIN = os.environ.get("PRECINCT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TYPES = [
    ("traffic_accident", 16),
    ("dispute", 15),
    ("assistance", 12),
    ("theft", 10),
    ("noise", 8),
    ("fight", 7),
    ("theft_ebike", 7),
    ("fraud", 6),
    ("suspicious", 6),
    ("burglary", 5),
    ("domestic", 4),
    ("fire", 2),
    ("robbery", 1),
    ("armed_robbery", 1),
]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, round(q / 100 * (len(v) - 1)))]


# --------------------------------------------------------------------------- setup (parent)


def prepare(engine: str, data_dir: Path, city_file: Path) -> tuple[str, list[tuple[float, float]], Any]:
    """A fresh database with users and units; returns (url, unit positions, cleanup)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from precinct.command.types import UnitType
    from precinct.command.units import upsert_unit
    from precinct.core.db import Database
    from precinct.core.identity import create_user
    from precinct.core.models import User

    cleanup: Any = lambda: None  # noqa: E731
    if engine == "sqlite":
        url = f"sqlite:///{data_dir / 'precinct.db'}"
    else:
        name = f"precinct_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)

        def cleanup() -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    (data_dir / "city").mkdir(parents=True, exist_ok=True)
    shutil.copy(city_file, data_dir / "city" / "graph.npz")
    (data_dir / "city" / "graph.json").write_text('{"source": "synthetic", "size_km": 15, "seed": 1}')
    from precinct.city.road import RoadGraph

    g = RoadGraph.load(city_file)
    lat0, lon0, lat1, lon1 = g.bbox
    db = Database(url)
    db.migrate()
    rng = random.Random(7)
    positions = []
    with db.session() as s:
        first = create_user(s, username="ct0", role="call_taker", password=PASSWORD)
        pw_hash = first.password_hash
        for i in range(1, CALL_TAKERS):
            s.add(User(username=f"ct{i}", role="call_taker", password_hash=pw_hash, active=True, failed_logins=0))
        for i in range(DISPATCHERS):
            s.add(User(username=f"d{i}", role="dispatcher", password_hash=pw_hash, active=True, failed_logins=0))
        for i in range(BOARD_CLIENTS):
            s.add(
                User(
                    username=f"board{i}",
                    role="supervisor" if i % 10 == 0 else "dispatcher",
                    password_hash=pw_hash,
                    active=True,
                    failed_logins=0,
                )
            )
        mix = [UnitType.patrol] * 240 + [UnitType.special] * 20 + [UnitType.traffic] * 30 + [UnitType.community] * 10
        for i, utype in enumerate(mix):
            la, lo = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)
            upsert_unit(s, id=f"U{i:03d}", unit_type=utype, station=f"station{i % 12}", lat=la, lon=lo)
            positions.append((la, lo))
    db.dispose()
    return url, positions, cleanup


SECRET = "bench-secret-key-0123456789abcdef0123456789"


def mint_tokens(url: str, names: list[str]) -> dict[str, str]:
    """Bearer tokens for existing users, as a login would issue them (logins are not measured)."""
    import secrets

    from sqlalchemy import select

    from precinct.config import Settings
    from precinct.core.db import Database, utcnow
    from precinct.core.identity import issue_token
    from precinct.core.models import User, UserSession

    settings = Settings(secret_key=SECRET, token_ttl_minutes=240, environment="test")
    db = Database(url)
    out = {}
    with db.session() as s:
        for user in s.scalars(select(User).where(User.username.in_(names))).all():
            sid = secrets.token_urlsafe(24)
            s.add(UserSession(id=sid, user_id=user.id, created_at=utcnow(), last_seen=utcnow()))
            out[user.username] = issue_token(settings, user=user, session_id=sid)
    db.dispose()
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, data_dir: Path, port: int, profile: Path | None = None, workers: int = 1
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PRECINCT_DATABASE_URL": url,
        "PRECINCT_DATA_DIR": str(data_dir),
        # not "test": each worker loads the road graph in the background at start-up
        "PRECINCT_ENVIRONMENT": "local",
        "PRECINCT_TOKEN_TTL_MINUTES": "240",
        "PRECINCT_IDLE_TIMEOUT_MINUTES": "240",
        "PRECINCT_SECRET_KEY": SECRET,
    }
    env.pop("PRECINCT_BUS_URL", None)
    if workers > 1:  # the workers share the live board's events through NATS (a subject root of our own)
        env["PRECINCT_BUS_URL"] = f"{NATS_URL}/precinct_bench_{uuid.uuid4().hex[:8]}"
    me = [sys.executable, str(Path(__file__).resolve())]
    uvicorn = ["-m", "uvicorn", "precinct.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    uvicorn += ["--log-level", "warning", "--no-access-log", "--backlog", "4096", "--workers", str(workers)]
    server = (
        [*me, "--role", "serve-profiled", "--work", str(profile), "--port", str(port)]
        if profile
        else [sys.executable, *uvicorn]
    )
    proc = subprocess.Popen(
        ["nice", "-n", "5", *server],
        env=env,
        cwd=ROOT,
    )
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                # warm the road graph (loaded on first use) before measuring
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


# --------------------------------------------------------------------------- board listener

SENT = re.compile(rb'"sent_at":([0-9.]+)')


async def listen(port: int, tokens: list[str], stop: Path, out: Path, ready: Path) -> None:
    lat: list[float] = []
    counts = [0] * len(tokens)
    connected = 0

    async def client(i: int, token: str) -> None:
        nonlocal connected
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
        writer.write(
            (
                f"GET /api/v1/board/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise SystemExit(f"board client {i}: {head[:80]!r}")
        connected += 1
        try:
            while True:
                data = await reader.read(1 << 20)
                if not data:
                    return
                now = time.time()
                for m in SENT.finditer(data):
                    lat.append(now - float(m.group(1)))
                    counts[i] += 1
        except (asyncio.CancelledError, ConnectionError):
            return
        finally:
            writer.close()

    tasks = [asyncio.create_task(client(i, t)) for i, t in enumerate(tokens)]
    while connected < len(tokens):
        await asyncio.sleep(0.05)
        if any(t.done() and t.exception() for t in tasks):
            raise SystemExit("a board client failed to connect")
    ready.write_text("ok")
    while not stop.exists():
        await asyncio.sleep(0.2)
    await asyncio.sleep(3)  # the last events in flight
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # chunked transfer-encoding framing may split a number; such samples are negligible and dropped
    lat = [x for x in lat if 0 <= x < 60]
    out.write_text(json.dumps({"latencies": lat, "per_client": counts}))


# --------------------------------------------------------------------------- load driver


async def drive(
    port: int,
    rate: float,
    seconds: float,
    positions: list[tuple[float, float]],
    bbox: tuple[float, float, float, float],
    out: Path,
) -> None:
    import httpx

    base = f"http://127.0.0.1:{port}/api/v1"
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=httpx.Timeout(30.0))
    rng = random.Random(11)
    timings: dict[str, list[float]] = {k: [] for k in ("call", "recommend", "dispatch", "status", "close", "position")}
    errors: list[str] = []
    acked: list[str] = []

    minted = json.loads((out.parent / "driver_tokens.json").read_text())
    ct_headers = [{"Authorization": f"Bearer {minted[f'ct{i}']}"} for i in range(CALL_TAKERS)]
    d_headers = [{"Authorization": f"Bearer {minted[f'd{i}']}"} for i in range(DISPATCHERS)]
    queue: asyncio.Queue[str] = asyncio.Queue()
    t_end = time.monotonic() + seconds
    lat0, lon0, lat1, lon1 = bbox
    population, weights = zip(*TYPES, strict=True)

    async def timed(kind: str, method: str, url: str, **kw: Any) -> httpx.Response | None:
        t = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            errors.append(f"{kind}: {type(exc).__name__}")
            return None
        timings[kind].append(time.perf_counter() - t)
        if r.status_code >= 400 and not (kind == "dispatch" and r.status_code == 409):
            errors.append(f"{kind}: {r.status_code} {r.text[:120]}")
        return r

    # Poisson arrivals, each handed to the next free call-taker
    arrivals: asyncio.Queue[int] = asyncio.Queue()

    async def clock() -> None:
        n = 0
        while time.monotonic() < t_end:
            await asyncio.sleep(rng.expovariate(rate))
            arrivals.put_nowait(n)
            n += 1

    async def call_taker(i: int) -> None:
        while time.monotonic() < t_end:
            try:
                n = await asyncio.wait_for(arrivals.get(), timeout=max(0.01, t_end - time.monotonic()))
            except TimeoutError:
                return
            body = {
                "lat": rng.uniform(lat0, lat1),
                "lon": rng.uniform(lon0, lon1),
                "type": rng.choices(population, weights)[0],
                "caller_phone": f"138{n:08d}",
                "description": f"bench call {n}",
            }
            r = await timed(
                "call", "POST", "/calls", json=body, headers={**ct_headers[i], "Idempotency-Key": f"bench-{n}"}
            )
            if r is not None and r.status_code == 201:
                acked.append(r.json()["id"])
                queue.put_nowait(r.json()["incident_id"])

    async def lifecycle(h: dict[str, str], iid: str, units: list[str]) -> None:
        await asyncio.sleep(rng.uniform(1, 3))
        for step in ("acknowledge", "arrive"):
            for u in units:
                await timed("status", "POST", f"/incidents/{iid}/{step}", json={"unit_id": u}, headers=h)
            await asyncio.sleep(rng.uniform(1, 3))
        await timed("status", "POST", f"/incidents/{iid}/clear", json={}, headers=h)
        await timed("close", "POST", f"/incidents/{iid}/close", json={"disposition": "resolved"}, headers=h)

    background: set[asyncio.Task[None]] = set()

    async def dispatcher(i: int) -> None:
        h = d_headers[i]
        while time.monotonic() < t_end:
            try:
                iid = await asyncio.wait_for(queue.get(), timeout=max(0.01, t_end - time.monotonic()))
            except TimeoutError:
                return
            r = await timed("recommend", "GET", f"/incidents/{iid}/recommendations", headers=h)
            if r is None or r.status_code != 200:
                continue
            plan = r.json()["plan"]
            units = [u for p in plan for u in p["suggested"]][:3] or [
                x["unit_id"] for x in r.json()["recommendations"][:1]
            ]
            if not units:
                continue
            d = await timed(
                "dispatch",
                "POST",
                f"/incidents/{iid}/dispatch",
                json={"unit_ids": units},
                headers={**h, "Idempotency-Key": f"disp-{iid}"},
            )
            if d is not None and d.status_code == 201:
                task = asyncio.create_task(lifecycle(h, iid, units))
                background.add(task)
                task.add_done_callback(background.discard)

    async def devices() -> None:
        # every unit reports its position every 30 s (10 per second for 300 units)
        h = d_headers[0]
        i = 0
        while time.monotonic() < t_end:
            la, lo = positions[i % len(positions)]
            la += rng.uniform(-0.001, 0.001)
            lo += rng.uniform(-0.001, 0.001)
            positions[i % len(positions)] = (la, lo)
            asyncio.get_running_loop().create_task(
                timed(
                    "position",
                    "POST",
                    f"/units/U{i % len(positions):03d}/position",
                    json={"lat": la, "lon": lo},
                    headers=h,
                )
            )
            i += 1
            await asyncio.sleep(30 / len(positions))

    workers = [asyncio.create_task(clock()), asyncio.create_task(devices())]
    workers += [asyncio.create_task(call_taker(i)) for i in range(CALL_TAKERS)]
    workers += [asyncio.create_task(dispatcher(i)) for i in range(DISPATCHERS)]
    await asyncio.gather(*workers)
    if background:
        await asyncio.wait(background, timeout=15)
    await client.aclose()
    out.write_text(json.dumps({"timings": timings, "errors": errors, "acked": acked}))


# --------------------------------------------------------------------------- orchestration


def run_one(
    engine: str, rate: float, seconds: float, city_file: Path, profile: Path | None = None, workers: int = 1
) -> dict[str, Any]:
    from sqlalchemy import select

    from precinct.command.models import Call
    from precinct.core.db import Database

    work = Path(tempfile.mkdtemp(prefix=f"bench_dispatch_{engine}_"))
    url, positions, cleanup = prepare(engine, work, city_file)
    port = free_port()
    server = start_server(url, work, port, profile, workers)
    try:
        import httpx

        from precinct.city.road import RoadGraph

        bbox = RoadGraph.load(city_file).bbox
        names = (
            [f"board{i}" for i in range(BOARD_CLIENTS)]
            + [f"ct{i}" for i in range(CALL_TAKERS)]
            + [f"d{i}" for i in range(DISPATCHERS)]
        )
        minted = mint_tokens(url, names)
        board_tokens = [minted[f"board{i}"] for i in range(BOARD_CLIENTS)]
        (work / "driver_tokens.json").write_text(json.dumps(minted))
        # warm-up: the road graph loads on first use
        h = {"Authorization": f"Bearer {board_tokens[0]}"}
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/calls",
            headers=h,
            timeout=120,
            json={"lat": (bbox[0] + bbox[2]) / 2, "lon": (bbox[1] + bbox[3]) / 2, "type": "theft"},
        )
        for _ in range(4 * workers):  # each worker's road graph and routing kernels
            httpx.get(
                f"http://127.0.0.1:{port}/api/v1/incidents/{r.json()['incident_id']}/recommendations",
                headers=h,
                timeout=120,
            )
        listener_out, ready = work / "board.json", work / "board.ready"
        driver_out = work / "driver.json"
        (work / "tokens.json").write_text(json.dumps(board_tokens))
        me = [sys.executable, str(Path(__file__).resolve())]
        listener = subprocess.Popen(
            ["nice", "-n", "5", *me, "--role", "listen", "--port", str(port), "--work", str(work)]
        )
        while not ready.exists():
            if listener.poll() is not None:
                raise SystemExit("board listener failed")
            time.sleep(0.1)
        (work / "positions.json").write_text(json.dumps({"positions": positions, "bbox": bbox}))
        t0 = time.time()
        cpu0 = _tree_cpu_seconds(server.pid)
        driver = subprocess.Popen(
            [
                "nice",
                "-n",
                "5",
                *me,
                "--role",
                "drive",
                "--port",
                str(port),
                "--seconds",
                str(seconds),
                "--rate",
                str(rate),
                "--work",
                str(work),
            ]
        )
        driver.wait()
        wall = time.time() - t0
        (work / "stop").write_text("stop")
        listener.wait()
        cpu1 = _tree_cpu_seconds(server.pid)
        board = json.loads(listener_out.read_text())
        drv = json.loads(driver_out.read_text())
        server_cpu = round(cpu1 - cpu0, 1) if cpu0 is not None and cpu1 is not None else None
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    db = Database(url)
    with db.sessionmaker() as s:
        stored = set(s.scalars(select(Call.id)).all())
    db.dispose()
    cleanup()
    shutil.rmtree(work, ignore_errors=True)
    lost = [c for c in drv["acked"] if c not in stored]
    t = drv["timings"]
    ms = lambda xs, q: round(pct(xs, q) * 1000, 1) if xs else None  # noqa: E731
    return {
        "engine": engine,
        "workers": workers,
        "rate": rate,
        "seconds": seconds,
        "wall_s": round(wall, 1),
        "calls": len(drv["acked"]),
        "lost": len(lost),
        "errors": len(drv["errors"]),
        "error_samples": drv["errors"][:5],
        "call_p50_ms": ms(t["call"], 50),
        "call_p99_ms": ms(t["call"], 99),
        "rec_p50_ms": ms(t["recommend"], 50),
        "rec_p99_ms": ms(t["recommend"], 99),
        "dispatch_p99_ms": ms(t["dispatch"], 99),
        "status_p99_ms": ms(t["status"], 99),
        "position_p99_ms": ms(t["position"], 99),
        "requests": sum(len(v) for v in t.values()),
        "board_events": len(board["latencies"]),
        "board_min_client": min(board["per_client"]),
        "board_p50_ms": ms(board["latencies"], 50),
        "board_p99_ms": ms(board["latencies"], 99),
        "server_cpu_s": server_cpu,
        "load_avg": round(os.getloadavg()[0], 1),
        "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, sum(len(v) for v in t.values())), 1)
        if server_cpu is not None
        else None,
    }


def serve_profiled(out: Path, port: int) -> None:
    """The server under cProfile, sync routes run inline (one thread, so the profile sees all);
    the statistics are written to ``out`` when the server stops."""
    import cProfile

    import fastapi.dependencies.utils
    import fastapi.routing
    import uvicorn

    async def inline(func: Any, *a: Any, **kw: Any) -> Any:
        return func(*a, **kw)

    fastapi.routing.run_in_threadpool = inline
    fastapi.dependencies.utils.run_in_threadpool = inline
    prof = cProfile.Profile()
    config = uvicorn.Config(
        "precinct.app:create_app", factory=True, host="127.0.0.1", port=port, log_level="warning", access_log=False
    )

    def dump(*_: Any) -> None:
        prof.disable()
        prof.dump_stats(out)
        os._exit(0)

    # uvicorn restores this handler and re-raises SIGTERM once it has shut down
    signal.signal(signal.SIGTERM, dump)
    prof.enable()
    uvicorn.Server(config).run()
    dump()


def _tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and its children (uvicorn's workers)."""
    total = _cpu_seconds(pid)
    if total is None:
        return None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            total += _cpu_seconds(int(stat.parent.name)) or 0.0
    return round(total, 1)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process (``nice`` execs, so the pid is the server)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)
    except (OSError, ValueError, IndexError):
        return None


TARGETS = {"call_p99_ms": 100.0, "rec_p99_ms": 50.0, "board_p99_ms": 500.0}


def verdict(r: dict[str, Any]) -> str:
    """Which targets a run misses ("all met" when none)."""
    missed = [k.removesuffix("_p99_ms") for k, t in TARGETS.items() if r[k] is None or r[k] > t]
    missed += [k for k in ("errors", "lost") if r[k]]
    return "all met" if not missed else "missed: " + ", ".join(missed)


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| engine | workers | load | calls | call p50 / p99 (<= 100) | recommendation p50 / p99 (<= 50) | "
        "dispatch p99 | board delivery p50 / p99, 200 clients (<= 500) | board events | errors | lost | "
        "server CPU ms per request (incl. fan-out) | load avg | targets |"
    )
    lines = [head, "|" + "---|" * 14]
    for r in sorted(results, key=lambda r: (r["workers"], r["rate"])):
        lines.append(
            f"| {r['engine']} | {r['workers']} | {r['rate']:g} calls/s | {r['calls']} | "
            f"{r['call_p50_ms']} / {r['call_p99_ms']} ms | {r['rec_p50_ms']} / {r['rec_p99_ms']} ms | "
            f"{r['dispatch_p99_ms']} ms | {r['board_p50_ms']} / {r['board_p99_ms']} ms | {r['board_events']:,} | "
            f"{r['errors']} | {r['lost']} | {r['server_cpu_ms_per_request']} | {r['load_avg']} | {verdict(r)} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--rates", default="1,10", help="calls per second, comma-separated")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", default="1", help="API worker processes, comma-separated (>1: NATS bus)")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--profile", type=Path, help="run the server under cProfile; stats to PROFILE.<engine>.<rate>")
    ap.add_argument("--role", default="main", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role == "listen":
        tokens = json.loads((args.work / "tokens.json").read_text())
        asyncio.run(listen(args.port, tokens, args.work / "stop", args.work / "board.json", args.work / "board.ready"))
        return
    if args.role == "serve-profiled":
        serve_profiled(args.work, args.port)
        return
    if args.role == "drive":
        pos = json.loads((args.work / "positions.json").read_text())
        asyncio.run(
            drive(
                args.port,
                args.rate,
                args.seconds,
                [tuple(p) for p in pos["positions"]],
                tuple(pos["bbox"]),
                args.work / "driver.json",
            )
        )
        return
    from precinct.city.road import RoadGraph

    cache = ROOT / "bench" / "out" / "city15_seed1.npz"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        RoadGraph.synthetic(size_km=15, seed=1).save(cache)
    results = []
    for workers in (int(w) for w in args.workers.split(",")):
        for rate in (float(r) for r in args.rates.split(",")):
            for engine in args.engines.split(","):
                print(f"== {engine}, {workers} worker(s), {rate:g} calls/s for {args.seconds:g} s", flush=True)
                prof = args.profile.with_suffix(f".{engine}.{rate:g}") if args.profile else None
                res = run_one(engine, rate, args.seconds, cache, prof, workers)
                print(json.dumps(res), flush=True)
                results.append(res)
    md = table(results)
    print(md)
    if args.write_docs:
        write_docs(md, results, args)


BEGIN, END = "<!-- dispatch_load:begin -->", "<!-- dispatch_load:end -->"


def write_docs(md: str, results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Put this run's table between the markers in the issue 5 section (the prose around stays)."""
    path = ROOT / "docs" / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    title = "## Command and dispatch (issue 5)"
    load = os.getloadavg()
    cmd = (
        f".venv/bin/python bench/dispatch_load.py --engines {args.engines} --rates {args.rates} "
        f"--workers {args.workers} --seconds {args.seconds:g}"
    )
    block = f"""{BEGIN}
Latest run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `{cmd}`; {platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.

{md}
{END}"""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    elif title in text:
        start = text.index(title) + len(title)
        text = text[:start] + "\n\n" + block + text[start:]
    else:
        text = text.rstrip("\n") + f"\n\n{title}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
