"""Plate-read queries on DuckDB and on a Spark standalone cluster, side by side (issue 23).

    nice .venv/bin/python bench/anpr_spark_cluster.py --reads 10000000 --work /tmp/anprspark/r10m

One run: synthetic reads (bench/anpr_bench.py's generator, 30 days) loaded into the warehouse by
the import's own code (bench/anpr_queries.py ``load``), exported as day-partitioned Parquet
(``Warehouse.export_parquet``, what ``precinct anpr export`` writes), then the same SQL text
(``precinct.anpr.queries``) on both engines:

- association: every vehicle within 5 km in 2 h against a 16,000-plate watchlist, rarity over the
  14 days before;
- series: vehicles near at least 2 of 20 scenes (1 km, 3 h each);
- trajectory: one vehicle over the month.

Cold = the first call of each query (DuckDB: just after opening the warehouse; Spark: just after
the session joined the cluster and the Parquet was registered); warm = the median of the next
``--runs`` calls. DuckDB's CPU is this process's CPU time; Spark's work happens in the cluster's
executor, so only wall time is shown for it. The Spark cluster (one master, one worker with
``--cores`` cores) is started with Spark's own launcher and stopped at the end. Both engines must
give the same number of rows per query, or the run stops.

These are the shared SQL texts; the API's association and series use DuckDB's compiled fast path
(bench/anpr_queries.py), which is faster still.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import anpr_bench as ab
import anpr_queries as aq

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg} (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)


def make_queries(wh: Any, *, watch_n: int) -> dict[str, Any]:
    """The three queries, with scenes and plates drawn from fixed samples of the data."""
    from precinct.anpr import queries
    from precinct.anpr.queries import Scene

    t_lo, t_hi = wh.query("SELECT min(ts_us), max(ts_us) FROM anpr_reads")[0]
    mid = t_lo + (t_hi - t_lo) * 2 // 3
    sample = wh.query(
        "SELECT lat, lon, ts_us, plate FROM anpr_reads WHERE ts_us BETWEEN ? AND ? ORDER BY read_id LIMIT 2000",
        [mid, mid + DAY_US],
    )
    watch = [r[0] for r in wh.query(
        "SELECT DISTINCT plate FROM anpr_reads ORDER BY hash(plate) LIMIT ?", [watch_n])]
    lat, lon, ts, plate = sample[0]
    scenes = [
        Scene(f"S{i}", r[0], r[1], r[2] - HOUR_US, r[2] + 2 * HOUR_US, 1.0)
        for i, r in enumerate(sample[:: max(1, len(sample) // 20)][:20])
    ]
    return {
        "association (5 km, 2 h, 16k watchlist, 14 d rarity)": queries.associate(
            lat=lat, lon=lon, radius_km=5, t0_us=ts - HOUR_US, t1_us=ts + HOUR_US, watchlist=watch,
            lookback_days=14),
        "series (>= 2 of 20 scenes, 1 km, 3 h)": queries.series(scenes=scenes, min_cases=2),
        "trajectory (one vehicle, 30 days)": queries.trajectory(plate=plate, t0_us=t_lo, t1_us=t_hi + 1),
    }


def timed(engine: Any, qs: dict[str, Any], runs: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, q in qs.items():
        w, c = time.perf_counter(), time.process_time()
        rows = engine.run(q)
        cold, cold_cpu = time.perf_counter() - w, time.process_time() - c
        wall, cpu = [], []
        for _ in range(runs):
            w, c = time.perf_counter(), time.process_time()
            engine.run(q)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
        out[name] = {"cold_ms": cold * 1000, "cold_cpu_ms": cold_cpu * 1000,
                     "warm_ms": statistics.median(wall) * 1000, "warm_cpu_ms": statistics.median(cpu) * 1000,
                     "rows": len(rows)}
        log(f"{name}: cold {cold * 1000:,.0f} ms, warm {out[name]['warm_ms']:,.0f} ms, {len(rows)} rows")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reads", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--work", type=Path, required=True, help="data, warehouse, export and cluster logs")
    ap.add_argument("--runs", type=int, default=3, help="warm calls per query and engine")
    ap.add_argument("--watchlist", type=int, default=16_000)
    ap.add_argument("--cores", type=int, default=2, help="the Spark worker's cores")
    ap.add_argument("--memory", default="2g", help="the Spark worker's memory (executor: 3/4 of it)")
    args = ap.parse_args()

    work = args.work
    data = work / "data"
    if not (data / "reads.parquet").exists():
        data.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        ab.synthetic_reads(data, reads=args.reads, days=args.days, seed=1)
        log(f"generated {args.reads:,} reads in {time.perf_counter() - t:.1f} s")
    settings, _db = ab.setup_dir(work / "var")
    info = aq.load(data, settings)
    if info.get("loaded"):
        log(f"loaded {info['reads']:,} reads in {info['seconds']:.1f} s, compacted in {info['compact_seconds']:.1f} s")
    from precinct.anpr import service
    from precinct.anpr.queries import DuckEngine, SparkQueryEngine
    from precinct.core.sparkcluster import StandaloneCluster
    from precinct.core.warehouse import SparkEngine

    wh = service.warehouse(settings)
    n = wh.query("SELECT count(*) FROM anpr_reads")[0][0]
    export = work / "parquet"
    t = time.perf_counter()
    wh.export_parquet("anpr_reads", export / "anpr_reads")
    wh.export_parquet("anpr_links", export / "anpr_links")
    export_s = time.perf_counter() - t
    size = sum(p.stat().st_size for p in export.rglob("*.parquet"))
    log(f"exported {n:,} reads in {export_s:.1f} s ({size / 2**20:,.0f} MiB Parquet)")
    qs = make_queries(wh, watch_n=args.watchlist)

    duck = timed(DuckEngine(wh), qs, args.runs)
    mem = args.memory
    exec_mem = f"{int(float(mem[:-1]) * 1024 * 3 / 4)}m" if mem[-1] in "gG" else mem
    with StandaloneCluster(work / "cluster", workers=1, cores=args.cores, memory=mem) as cluster:
        t = time.perf_counter()
        spark = SparkEngine(cluster.url, conf={
            "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
            "spark.executor.memory": exec_mem})
        spark.register_parquet("anpr_reads", export / "anpr_reads")
        spark.register_parquet("anpr_links", export / "anpr_links")
        start_s = time.perf_counter() - t
        log(f"Spark session on {cluster.url} in {start_s:.1f} s")
        try:
            sp = timed(SparkQueryEngine(spark), qs, args.runs)
        finally:
            spark.stop()
    for name in qs:
        if duck[name]["rows"] != sp[name]["rows"]:
            raise SystemExit(f"engines disagree on {name}: duckdb {duck[name]['rows']} rows, "
                             f"spark {sp[name]['rows']} rows")

    load1, load5, _ = os.getloadavg()
    print(f"\n{n:,} reads, {args.days} days; Parquet export {export_s:.1f} s, {size / 2**20:,.0f} MiB; "
          f"Spark cluster: 1 worker, {args.cores} cores, executor {exec_mem}; session start {start_s:.1f} s")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load1:.1f}/{load5:.1f} at the end")
    print("\n| query | rows | DuckDB cold | DuckDB warm (CPU) | Spark cluster cold | Spark cluster warm | warm ratio |")
    print("|---|---|---|---|---|---|---|")
    for name in qs:
        d, s = duck[name], sp[name]
        ratio = s["warm_ms"] / max(d["warm_ms"], 1e-3)
        print(f"| {name} | {d['rows']:,} | {d['cold_ms']:,.0f} ms | {d['warm_ms']:,.1f} ms ({d['warm_cpu_ms']:,.0f}) "
              f"| {s['cold_ms']:,.0f} ms | {s['warm_ms']:,.0f} ms | Spark {ratio:,.0f}× |")


if __name__ == "__main__":
    main()
