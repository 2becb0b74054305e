"""Benchmark ``precinct sim generate`` (wall time, reads per second, peak memory) and the
start-up of ``precinct demo`` on a fresh data directory in a fresh process.

    .venv/bin/python bench/sim_generate.py --days 30 --reads-per-day 3333334 [--record]
    .venv/bin/python bench/sim_generate.py --demo-startup 3

``--record`` appends a row to the "Living city (issue 4)" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from precinct.sim.generate import generate

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "## Living city (issue 4)"
INTRO = f"""{SECTION}

`precinct sim generate` writes reads.parquet (zstd, 1M-row groups) plus the small CSV tables and
truth.json, streaming one simulated day at a time. Target: 100 million reads in under 10 minutes
with bounded memory. Rows are appended by `bench/sim_generate.py --record`; "setup" is the time to
build the city geography, population, planted stories and calls before the first read is written.
Peak RSS is the whole process (Python, numpy, pyarrow, the road graph).

| date | machine | command | reads | wall s | setup s | reads/s | peak RSS MiB | parquet MiB |
|---|---|---|---|---|---|---|---|---|
"""


def record(row: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + "\n\n" + INTRO
    start = text.index(SECTION)
    nxt = text.find("\n## ", start + len(SECTION))
    end = len(text) if nxt < 0 else nxt + 1
    body = text[start:end].rstrip("\n") + "\n" + row + "\n"
    text = text[:start] + body + ("\n" + text[end:] if nxt >= 0 else "")
    DOC.write_text(text, encoding="utf-8")


DEMO_TARGET_S = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def demo_startup_once() -> dict[str, float]:
    """Start ``precinct demo`` on a fresh data directory; time to health, to the banner (logins
    printed) and to the first units on duty (the simulation is feeding it); then stop it."""
    import httpx

    from precinct.core.roles import Role
    from precinct.sim.accounts import demo_password

    tmp = Path(tempfile.mkdtemp(prefix="sim_demo_"))
    port = _free_port()
    env = {**os.environ, "PRECINCT_DATA_DIR": str(tmp / "var"), "PRECINCT_ENVIRONMENT": "local"}
    env.pop("PRECINCT_DATABASE_URL", None)
    exe = Path(sys.executable).parent / "precinct"
    log_path = tmp / "demo.log"
    base = f"http://127.0.0.1:{port}"
    out: dict[str, float] = {"load1": os.getloadavg()[0]}
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([str(exe), "demo", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while "health" not in out or "banner" not in out or "units" not in out:
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text(encoding="utf-8"))
            now = time.perf_counter() - t0
            if now > 180:
                raise RuntimeError("demo not up after 180 s:\n" + log_path.read_text(encoding="utf-8"))
            if "health" not in out:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                        out["health"] = now
                except httpx.HTTPError:
                    pass
            if "banner" not in out and "Precinct demo is up" in log_path.read_text(encoding="utf-8"):
                out["banner"] = now
                out["cpu_up"] = _proc_cpu_s(proc.pid)
            if "health" in out and "units" not in out:
                r = httpx.post(
                    f"{base}/api/v1/auth/token",
                    data={"username": "dispatcher", "password": demo_password(Role.dispatcher)},
                )
                h = {"Authorization": f"Bearer {r.json()['access_token']}"}
                units = httpx.get(f"{base}/api/v1/units?status=available", headers=h).json()["units"]
                if units:
                    out["units"] = time.perf_counter() - t0
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        shutil.rmtree(tmp, ignore_errors=True)
    out["cpu"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return out


def demo_startup(runs: int) -> None:
    """Print a table of ``runs`` cold starts of ``precinct demo`` against the 30 s target."""
    rows = []
    for i in range(runs):
        r = demo_startup_once()
        rows.append(r)
        print(
            f"run {i + 1}: health {r['health']:.1f} s, logins printed {r['banner']:.1f} s, "
            f"units on duty {r['units']:.1f} s, demo process CPU {r['cpu_up']:.1f} s when up, "
            f"{r['cpu']:.1f} s until stopped, "
            f"load average {r['load1']:.2f}",
            flush=True,
        )
    worst = max(r["banner"] for r in rows)
    print("\n| run | up (health) s | logins printed s | CPU when up s | units on duty s | CPU total s | load avg |")
    print("|---|---|---|---|---|---|---|")
    for i, r in enumerate(rows, 1):
        print(
            f"| {i} | {r['health']:.1f} | {r['banner']:.1f} | {r['cpu_up']:.1f} | {r['units']:.1f} | {r['cpu']:.1f} "
            f"| {r['load1']:.2f} |"
        )
    verdict = "met" if worst < DEMO_TARGET_S else "NOT met"
    print(f"target: up in under {DEMO_TARGET_S:.0f} s on a fresh data directory -> worst {worst:.1f} s, {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demo-startup", type=int, default=0, metavar="N", help="time N cold starts of precinct demo")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--reads-per-day", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cameras", type=int, default=None, help="checkpoint cameras (4200: a county, 36 km city)")
    ap.add_argument("--by-day", action="store_true", help="one Parquet file per day (resumable layout)")
    ap.add_argument("--out", type=Path, default=None, help="keep the output here")
    ap.add_argument("--machine", default="2 shared cores (about 6 agents)")
    ap.add_argument("--record", action="store_true", help="append the result to docs/BENCHMARKS.md")
    args = ap.parse_args()
    if args.demo_startup:
        demo_startup(args.demo_startup)
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="sim_bench_"))
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "writing reads" and "first" not in marks:
            marks["first"] = time.perf_counter() - t0
        print(f"\r{stage} {done}/{total} {time.perf_counter() - t0:7.1f}s", end="", flush=True)

    city, geo_size = None, None
    if args.cameras is not None:
        from precinct.sim.generate import county_size, default_city

        size_km, geo_size = county_size(args.cameras)
        city = default_city(args.seed, size_km=size_km)
    load0 = os.getloadavg()[0]
    truth = generate(out, days=args.days, seed=args.seed, reads_per_day=args.reads_per_day,
                     progress=progress, city=city, geo_size=geo_size, by_day=args.by_day)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = truth["counts"]["reads"]
    files = [out / "reads.parquet"] if not args.by_day else sorted((out / "reads").glob("*.parquet"))
    size = sum(f.stat().st_size for f in files) / 2**20
    extra = (f" --cameras {args.cameras}" if args.cameras else "") + (" --by-day" if args.by_day else "")
    cmd = (f"`python bench/sim_generate.py --days {args.days} --reads-per-day {args.reads_per_day}"
           f" --seed {args.seed}{extra}`")
    loop = wall - marks.get("first", 0)
    print(f"\n{n:,} reads in {wall:.1f} s ({n / wall:,.0f} reads/s; {n / loop:,.0f} reads/s after setup), "
          f"setup {marks.get('first', 0):.1f} s, peak RSS {rss:.0f} MiB, parquet {size:.0f} MiB, "
          f"{truth['counts']['cameras']} cameras, load average {load0:.1f} -> {os.getloadavg()[0]:.1f}; "
          f"{platform.python_version()}, {os.cpu_count()} cpus")
    if args.record:
        record(f"| {dt.date.today().isoformat()} | {args.machine} | {cmd} | {n:,} | {wall:.0f} | "
               f"{marks.get('first', 0):.0f} | {n / wall:,.0f} | {rss:.0f} | {size:.0f} |")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
