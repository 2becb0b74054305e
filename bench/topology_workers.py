"""Production topology: one API worker against several, on PostgreSQL + NATS JetStream, same load.

The load is bench/dispatch_load.py's (call-takers, dispatchers, unit positions, a fresh PostgreSQL
database and the 15 km synthetic city for each run), with 1,000 live-board SSE clients instead of
200, and the event bus on JetStream for every run, one worker included (so the two sides differ
only in the number of workers). The NATS server is our own (``nats-server -js`` on a free loopback
port, storage in a temporary folder), started and stopped by this script.

Usage::

    .venv/bin/python bench/topology_workers.py --workers 1,2 --rates 1,10 --seconds 30
    ... --write-docs    # append/replace the table in docs/BENCHMARKS.md (issue 20 section)

Figures per run: calls acknowledged, call p99, recommendation p99, board delivery p50/p99 (commit to
event parsed, over every event x every client), errors, lost calls, server CPU per request; and the
ratio of several workers to one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import dispatch_load as dl  # noqa: E402  (the shared load driver, listener and server start)

BOARD_CLIENTS = 1000
BEGIN, END = "<!-- topology_workers:begin -->", "<!-- topology_workers:end -->"


def start_nats(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = dl.free_port()
    server = shutil.which("nats-server") or "/usr/sbin/nats-server"
    proc = subprocess.Popen([server, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"nats://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("nats-server did not start")


def patch_server_start(nats_url: str) -> None:
    """Every run on JetStream (dispatch_load uses NATS only with several workers)."""
    original = dl.start_server

    def start_server(url: str, data_dir: Path, port: int, profile: Path | None = None,
                     workers: int = 1) -> subprocess.Popen[bytes]:
        os.environ["PRECINCT_BUS_URL"] = f"{nats_url}/topo_{uuid.uuid4().hex[:8]}"
        os.environ["PRECINCT_AUDIT_ANCHOR_EVERY_S"] = "60"
        try:
            return original(url, data_dir, port, profile, workers)
        finally:
            os.environ.pop("PRECINCT_BUS_URL", None)

    dl.start_server = start_server
    dl.NATS_URL = nats_url


def table(results: list[dict[str, Any]]) -> str:
    head = ("| workers | load | calls | call p50 / p99 | recommendation p99 | board delivery p50 / p99, "
            f"{BOARD_CLIENTS:,} clients (<= 500) | board frames | errors | lost | server CPU ms/request | load avg |")
    lines = [head, "|" + "---|" * 11]
    for r in sorted(results, key=lambda r: (r["rate"], r["workers"])):
        lines.append(
            f"| {r['workers']} | {r['rate']:g} calls/s | {r['calls']} | {r['call_p50_ms']} / {r['call_p99_ms']} ms | "
            f"{r['rec_p99_ms']} ms | {r['board_p50_ms']} / {r['board_p99_ms']} ms | {r['board_events']:,} | "
            f"{r['errors']} | {r['lost']} | {r['server_cpu_ms_per_request']} | {r['load_avg']} |")
    return "\n".join(lines)


def ratios(results: list[dict[str, Any]]) -> str:
    out = []
    for rate in sorted({r["rate"] for r in results}):
        runs = {r["workers"]: r for r in results if r["rate"] == rate}
        one = runs.get(1)
        for n, r in sorted(runs.items()):
            if n == 1 or one is None:
                continue
            def ratio(key: str, r: dict[str, Any] = r, one: dict[str, Any] = one) -> str:
                a, b = r.get(key), one.get(key)
                return f"{a / b:.2f}x" if a and b else "n/a"
            out.append(f"- {rate:g} calls/s, {n} workers vs 1: calls {ratio('calls')}, "
                       f"call p99 {ratio('call_p99_ms')}, board p99 {ratio('board_p99_ms')}, "
                       f"CPU per request {ratio('server_cpu_ms_per_request')}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--rates", default="1,10")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    dl.BOARD_CLIENTS = BOARD_CLIENTS
    store = Path(tempfile.mkdtemp(prefix="bench_topology_nats_"))
    nats, url = start_nats(store)
    patch_server_start(url)
    from precinct.city.road import RoadGraph

    cache = ROOT / "bench" / "out" / "city15_seed1.npz"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        RoadGraph.synthetic(size_km=15, seed=1).save(cache)
    results = []
    try:
        for rate in (float(r) for r in args.rates.split(",")):
            for workers in (int(w) for w in args.workers.split(",")):
                print(f"== postgresql + JetStream, {workers} worker(s), {rate:g} calls/s, "
                      f"{BOARD_CLIENTS} board clients", flush=True)
                res = dl.run_one("postgresql", rate, args.seconds, cache, None, workers)
                print(json.dumps(res), flush=True)
                results.append(res)
    finally:
        nats.terminate()
        nats.wait(10)
        shutil.rmtree(store, ignore_errors=True)
    md = table(results) + "\n\n" + ratios(results)
    print(md)
    if args.write_docs:
        write_docs(md, args)


def write_docs(md: str, args: argparse.Namespace) -> None:
    path = ROOT / "docs" / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    load = os.getloadavg()
    cmd = (f".venv/bin/python bench/topology_workers.py --workers {args.workers} --rates {args.rates} "
           f"--seconds {args.seconds:g}")
    block = f"""{BEGIN}
Latest run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `{cmd}`; {platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.

{md}
{END}"""
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        title = "## Production topology: one worker against several (issue 20)"
        text = text.rstrip("\n") + f"\n\n{title}\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
