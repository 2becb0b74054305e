"""Plate-read ingest benchmark (issue 6, ingest half): `precinct anpr import` from Parquet and CSV,
HTTP batch ingest (JSON, Arrow IPC) and hotlist alert latency, each next to a peer in the same run.

    .venv/bin/python bench/anpr_ingest.py --data /tmp/anpr100m                    # 100M reads
    .venv/bin/python bench/anpr_ingest.py --data /tmp/anpr100m --reads 10000000   # first 10M

Data: a directory written by ``precinct sim generate`` (reads.parquet, cameras.csv); generate the
100M-read set with ``precinct sim generate --days 30 --reads-per-day 3850000 --seed 1 --out DIR``.

Peers, same rows, same machine, same run:
- import: DuckDB loading the same file straight into a table (``CREATE TABLE AS SELECT * FROM
  read_parquet/read_csv``: no validation, normalisation, deduplication, audit or sort), the floor
  any import built on DuckDB pays; the ratio shows what Precinct's guarantees cost;
- HTTP: the same batches as JSON and as Arrow IPC (the issue's bar applies to HTTP batch ingest).

Each import runs the real command in its own process (`precinct anpr import FILE --as bench`);
wall time, the process's CPU time (user + system, DuckDB's threads included) and peak RSS are
reported with the load average, because the machine may be shared. Prints a Markdown table with
the targets and a verdict; ``--out FILE`` also writes it there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anpr_bench import bench_alerts, bench_http, fresh_env, log, machine, make_user, setup_dir

ROOT = Path(__file__).resolve().parent.parent
PRECINCT = str(ROOT / ".venv" / "bin" / "precinct")
TARGETS = {"parquet": 250_000, "csv": 100_000, "http": 50_000, "alert_p99_ms": 200.0}


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run_measured(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd`` as a child; wall, its CPU seconds, its peak RSS (MiB), load average before/after."""
    load0 = load()
    t = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {stderr[-2000:]}")
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
        "load": f"{load0} → {load()}",
        "stdout": stdout,
    }


def subset_parquet(src: Path, rows: int, out: Path) -> Path:
    """The first ``rows`` reads of ``src`` (whole row groups), or ``src`` itself."""
    pf = pq.ParquetFile(src)
    if rows >= pf.metadata.num_rows:
        return src
    if out.exists() and pq.ParquetFile(out).metadata.num_rows >= rows:
        return out
    with pq.ParquetWriter(out, pf.schema_arrow, compression="zstd") as w:
        done = 0
        for i in range(pf.num_row_groups):
            if done >= rows:
                break
            g = pf.read_row_group(i)
            g = g.slice(0, rows - done)
            w.write_table(g)
            done += g.num_rows
    return out


def write_csv(src: Path, rows: int, out: Path) -> Path:
    """The first ``rows`` reads as CSV in the DESIGN.md format (ISO 8601 times with Z)."""
    if out.exists():
        return out
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT plate, strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS ts, lat, lon, "
        f"camera_id, read_id, kind, confidence FROM read_parquet('{src}') LIMIT {int(rows)}) "
        f"TO '{out}' (HEADER)"
    )
    con.close()
    return out


def precinct_import(path: Path, work: Path, data: Path) -> dict[str, Any]:
    """`precinct anpr import PATH` into a fresh data directory (cameras loaded first)."""
    shutil.rmtree(work, ignore_errors=True)
    _settings, db = setup_dir(work)
    make_user(db, "bench", "admin")
    db.dispose()
    env = fresh_env(work)
    if (data / "cameras.csv").exists():
        run_measured([PRECINCT, "anpr", "cameras", "import", str(data / "cameras.csv"), "--as", "bench"], env)
    log(f"precinct anpr import {path} (load {load()}) ...")
    m = run_measured([PRECINCT, "anpr", "import", str(path), "--as", "bench", "--format", "json"], env)
    out = json.loads(m["stdout"][m["stdout"].index("{"):])
    rows = out["stored"] + out["duplicates"] + out["rejected"]
    m.update(rows=rows, stored=out["stored"], rejected=out["rejected"], rate=rows / m["wall"],
             cmd_seconds=out.get("seconds"))
    m.pop("stdout")
    log(f"  {rows:,} rows in {m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU: {m['rate']:,.0f} rows/s")
    return m


_PEER = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1], config={"memory_limit": "4GB"})
src = sys.argv[2]
reader = "read_parquet('%s')" % src if src.endswith(".parquet") else "read_csv('%s', header=true)" % src
con.execute("CREATE TABLE reads AS SELECT * FROM " + reader)
con.execute("CHECKPOINT")
print(con.execute("SELECT count(*) FROM reads").fetchone()[0])
"""


def duckdb_peer(path: Path, work: Path) -> dict[str, Any]:
    """DuckDB loading ``path`` as it is into a new database file (no checks), in its own process."""
    work.mkdir(parents=True, exist_ok=True)
    db = work / "peer.duckdb"
    for f in (db, Path(f"{db}.wal")):
        f.unlink(missing_ok=True)
    log(f"peer: DuckDB CREATE TABLE AS {path.name} (load {load()}) ...")
    m = run_measured([sys.executable, "-c", _PEER, str(db), str(path)], dict(os.environ))
    rows = int(m.pop("stdout").strip().splitlines()[-1])
    m.update(rows=rows, rate=rows / m["wall"])
    db.unlink(missing_ok=True)
    log(f"  {rows:,} rows in {m['wall']:.1f} s wall: {m['rate']:,.0f} rows/s")
    return m


def verdict(ok: bool) -> str:
    return "**met**" if ok else "not met"


def report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    lines = [
        f"Run {dt.date.today().isoformat()} on {machine()}.",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`",
        "",
        "| measure | Precinct | peer (same run) | target | verdict |",
        "|---|---|---|---|---|",
    ]
    for key, label in (("parquet", "import Parquet (`precinct anpr import`)"), ("csv", "import CSV")):
        if key in r:
            m, p = r[key], r.get(f"{key}_peer")
            peer = (f"DuckDB raw load {p['rate']:,.0f} rows/s ({p['wall']:.0f} s); Precinct at "
                    f"{m['rate'] / p['rate']:.2f}× its rate") if p else "—"
            lines.append(
                f"| {label}, {m['rows']:,} rows | {m['rate']:,.0f} reads/s ({m['wall']:.0f} s wall, of which "
                f"{m['cmd_seconds']:.0f} s in the import itself; "
                f"{m['cpu']:.0f} s CPU, peak RSS {m['rss_mib']:,.0f} MiB, load {m['load']}) | {peer} | "
                f"≥ {TARGETS[key]:,} reads/s | {verdict(m['rate'] >= TARGETS[key])} |"
            )
    if "http" in r:
        for label in ("json", "arrow"):
            h = r["http"].get(label)
            if h:
                lines.append(
                    f"| HTTP batch ingest, {label} ({h['batch']:,} reads/batch, one client) | "
                    f"{h['rate']:,.0f} reads/s | — | ≥ {TARGETS['http']:,} reads/s | "
                    f"{verdict(h['rate'] >= TARGETS['http'])} |"
                )
    for key in ("alerts_1000", "alerts"):
        a = r.get(key)
        if not a:
            continue
        if "p99" not in a:
            lines.append(f"| hotlist alert ({key}) | {a.get('skipped')} | — | p99 ≤ 200 ms | not measured |")
            continue
        lines.append(
            f"| hotlist alert, POST sent → event on the live board (SSE), {a['rate']:,} reads/s "
            f"(achieved {a['achieved_rate']:,.0f}, {a['batch']} reads/batch) | p50 {a['p50']:.1f} ms, "
            f"p99 {a['p99']:.1f} ms ({a['alerts']} of {a['expected']} alerts) | — | p99 ≤ 200 ms | "
            f"{verdict(a['p99'] <= TARGETS['alert_p99_ms'])} |"
        )
    lines.append("")
    lines.append(f"Load average (1/5/15 min) at the end: {load()}.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/tmp/anpr100m"), help="`precinct sim generate` output")
    ap.add_argument("--reads", type=int, default=0, help="import only the first N reads (0 = all)")
    ap.add_argument("--csv-rows", type=int, default=10_000_000)
    ap.add_argument("--http-reads", type=int, default=300_000)
    ap.add_argument("--alert-seconds", type=int, default=20)
    ap.add_argument("--work", type=Path, default=Path("/tmp/anpr_ingest_bench"))
    ap.add_argument("--skip", default="", help="comma list: parquet,csv,peers,http,alerts")
    ap.add_argument("--keep", action="store_true", help="keep the imported warehouse in WORK/parquet")
    ap.add_argument("--out", type=Path, help="also write the table here")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    args.work.mkdir(parents=True, exist_ok=True)
    src = args.data / "reads.parquet"
    total = pq.ParquetFile(src).metadata.num_rows
    r: dict[str, Any] = {}
    parquet = subset_parquet(src, args.reads or total, args.work / "subset.parquet")
    if "parquet" not in skip:
        r["parquet"] = precinct_import(parquet, args.work / "parquet", args.data)
        if not args.keep:
            shutil.rmtree(args.work / "parquet", ignore_errors=True)
        if "peers" not in skip:
            r["parquet_peer"] = duckdb_peer(parquet, args.work / "peer")
    if "csv" not in skip:
        csv_path = write_csv(src, args.csv_rows, args.work / f"reads-{args.csv_rows}.csv")
        r["csv"] = precinct_import(csv_path, args.work / "csv", args.data)
        shutil.rmtree(args.work / "csv", ignore_errors=True)
        if "peers" not in skip:
            r["csv_peer"] = duckdb_peer(csv_path, args.work / "peer")
    if "http" not in skip:
        log(f"HTTP ingest (load {load()}) ...")
        r["http"] = bench_http(args.data, args.work, n=args.http_reads, batch=10_000)
    if "alerts" not in skip:
        log(f"alerts at 1,000 reads/s (load {load()}) ...")
        r["alerts_1000"] = bench_alerts(args.data, args.work, rate=1000, seconds=args.alert_seconds, batch=100)
        log(f"alerts at 5,000 reads/s (load {load()}) ...")
        r["alerts"] = bench_alerts(args.data, args.work, rate=5000, seconds=args.alert_seconds, batch=500)
    text = report(args, r)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    (args.work / "results.json").write_text(json.dumps(r, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
