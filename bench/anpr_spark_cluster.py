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

An existing warehouse instead of synthetic reads (the county-year of bench/anpr_county_year.py):

    nice -n 19 .venv/bin/python bench/anpr_spark_cluster.py --warehouse /tmp/anpr1b/wh \
        --day-from 2026-11-01 --day-to 2026-11-30 --work /tmp/anpr1b/spark --memory 3g

DuckDB runs on the whole warehouse; Spark on the export of the UTC days ``--day-from`` to
``--day-to`` only (the same ``COPY ... PARTITION_BY (day)`` as ``Warehouse.export_parquet``,
restricted to those days and written a day at a time, stopping before free disk would fall under
``--min-free-gb``: a full export does not fit beside a county-year warehouse on this disk). The
queries' windows (the association's 14-day look-back included, the trajectory, the series' scenes)
lie inside those days, so both engines see the same reads.

An existing export instead (a county-year's, written by bench/anpr_year_export.py a chunk of days at
a time, as ``Warehouse.export_parquet`` lays it out):

    nice -n 19 .venv/bin/python bench/anpr_spark_cluster.py --export /tmp/anpr1b/export \
        --work /tmp/anpr1b/spark --memory 3g --runs 3

Both engines then read the same Parquet: DuckDB (a fresh in-memory database, spill files under
``--work``) and Spark register ``anpr_reads`` and ``anpr_links`` as the hive-partitioned folders and
the query-side projections as the same views over them (``presence.SPARK_VIEWS``), so they see
identical tables. Scenes and watchlist are drawn as in ``--warehouse`` mode (from the export's whole
UTC days, or ``--day-from``..``--day-to``); DuckDB's cold call is the first of a connection opened
after the sampling. The rows themselves are compared, not only their number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
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


def make_queries(
    wh: Any, *, watch_n: int, days: tuple[int, int] | None = None
) -> dict[str, Any]:
    """The three queries, with scenes and plates drawn from fixed samples of the data (of the UTC
    days ``days``, inclusive, when given: the scenes then sit on the 15th day, after the
    association's 14-day look-back, or at two thirds of the range if it is shorter)."""
    from precinct.anpr import queries
    from precinct.anpr.queries import Scene

    if days is None:
        t_lo, t_hi = wh.query("SELECT min(ts_us), max(ts_us) FROM anpr_reads")[0]
        mid = t_lo + (t_hi - t_lo) * 2 // 3
    else:
        t_lo, t_hi = days[0] * DAY_US, (days[1] + 1) * DAY_US - 1
        mid = (days[0] + 14) * DAY_US + 10 * HOUR_US if days[1] - days[0] >= 15 else t_lo + (t_hi - t_lo) * 2 // 3
    sample = wh.query(
        "SELECT lat, lon, ts_us, plate FROM anpr_reads WHERE ts_us BETWEEN ? AND ? ORDER BY read_id LIMIT 2000",
        [mid, min(mid + DAY_US, t_hi - 3 * HOUR_US)],
    )
    watch = [r[0] for r in wh.query(
        "SELECT DISTINCT plate FROM anpr_reads WHERE ts_us BETWEEN ? AND ? ORDER BY hash(plate) LIMIT ?",
        [t_lo, t_hi, watch_n])]
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
        f"trajectory (one vehicle, {(t_hi - t_lo) // DAY_US + 1} days)": queries.trajectory(
            plate=plate, t0_us=t_lo, t1_us=t_hi + 1),
    }


def children_cpu_s() -> float:
    """CPU seconds (user + system) of every live descendant of this process: with a Spark session
    on a cluster started here, the driver's JVM, the master, the worker and its executors."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    mine, total = {os.getpid()}, 0.0
    changed = True
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                total += cpu[pid]
                changed = True
    return total


def past(deadline: str | None) -> bool:
    if not deadline:
        return False
    h, m = (int(x) for x in deadline.split(":"))
    now = dt.datetime.now(dt.UTC)
    return (now.hour, now.minute) >= (h, m)


def timed(engine: Any, qs: dict[str, Any], runs: int, deadline: str | None = None,
          keep_rows: bool = False, children: bool = False) -> dict[str, dict[str, Any]]:
    """Cold and warm times per query; after ``deadline`` (HH:MM UTC) no further call is started
    (a query not run at all is left out; fewer warm calls are recorded as ``warm_n``). With
    ``keep_rows`` the cold call's rows are kept as ``result``; with ``children`` the CPU time
    includes this process's descendants (the Spark JVMs, :func:`children_cpu_s`)."""
    out: dict[str, dict[str, Any]] = {}

    def clock() -> float:
        return time.process_time() + (children_cpu_s() if children else 0.0)

    for name, q in qs.items():
        if past(deadline):
            log(f"{name}: skipped, deadline {deadline} UTC passed")
            continue
        w, c = time.perf_counter(), clock()
        rows = engine.run(q)
        cold, cold_cpu = time.perf_counter() - w, clock() - c
        wall, cpu = [], []
        for _ in range(runs):
            if past(deadline):
                break
            w, c = time.perf_counter(), clock()
            engine.run(q)
            wall.append(time.perf_counter() - w)
            cpu.append(clock() - c)
        out[name] = {"cold_ms": cold * 1000, "cold_cpu_ms": cold_cpu * 1000,
                     "warm_ms": statistics.median(wall or [float("nan")]) * 1000,
                     "warm_cpu_ms": statistics.median(cpu or [float("nan")]) * 1000,
                     "rows": len(rows), "warm_n": len(wall)}
        if keep_rows:
            out[name]["result"] = rows
        log(f"{name}: cold {cold * 1000:,.0f} ms, warm {out[name]['warm_ms']:,.0f} ms, {len(rows)} rows")
    return out


def utc_day(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()) // 86_400


def free_gb(path: Path) -> float:
    return shutil.disk_usage(path).free / 2**30


def export_days(wh: Any, out_dir: Path, day_from: int, day_to: int, min_free_gb: float) -> tuple[int, int]:
    """``anpr_reads`` of the UTC days ``day_from``..``day_to`` as ``Warehouse.export_parquet`` writes
    them (its ``COPY ... PARTITION_BY (day)`` with a day filter), a day at a time; stops before a day
    that would leave less than ``min_free_gb`` free (estimated from the largest day so far). Returns
    the last day exported and the bytes written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / (out_dir.name + ".staging")
    done, size, biggest = day_from - 1, 0, 0
    for day in range(day_from, day_to + 1):
        part = out_dir / f"day={day}"
        if not part.exists():
            if free_gb(out_dir) - biggest * 1.2 / 2**30 < min_free_gb:
                log(f"export stops before day {day}: {free_gb(out_dir):.1f} GiB free, {min_free_gb} GiB must stay")
                break
            shutil.rmtree(staging, ignore_errors=True)
            select = f"SELECT *, (ts_us // {DAY_US})::INTEGER AS day FROM anpr_reads WHERE ts_us >= ? AND ts_us < ?"
            cur = wh.cursor()
            try:
                cur.execute(f"COPY ({select}) TO ? (FORMAT PARQUET, PARTITION_BY (day), OVERWRITE TRUE)",
                            [day * DAY_US, (day + 1) * DAY_US, str(staging)])
            finally:
                cur.close()
            os.replace(staging / f"day={day}", part)
            shutil.rmtree(staging, ignore_errors=True)
        n = sum(p.stat().st_size for p in part.rglob("*.parquet"))
        biggest, size, done = max(biggest, n), size + n, day
        if day == day_from:  # the first day's bytes per read, before committing to the range
            rows = wh.query("SELECT count(*) FROM anpr_reads WHERE ts_us >= ? AND ts_us < ?",
                            [day * DAY_US, (day + 1) * DAY_US])[0][0]
            log(f"day {day}: {rows:,} reads, {n / 2**20:,.1f} MiB, {n / max(rows, 1):.1f} bytes per read; "
                f"{free_gb(out_dir):.1f} GiB free")
    return done, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reads", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--work", type=Path, required=True, help="data, warehouse, export and cluster logs")
    ap.add_argument("--runs", type=int, default=3, help="warm calls per query and engine")
    ap.add_argument("--spark-runs", type=int, default=None, help="warm calls per query on Spark (default --runs)")
    ap.add_argument("--watchlist", type=int, default=16_000)
    ap.add_argument("--cores", type=int, default=2, help="the Spark worker's cores")
    ap.add_argument("--memory", default="2g", help="the Spark worker's memory (executor: 3/4 of it)")
    ap.add_argument("--warehouse", type=Path, default=None,
                    help="an existing bench/anpr_county_year.py --work folder instead of synthetic reads")
    ap.add_argument("--day-from", default=None, help="with --warehouse: first UTC day exported (YYYY-MM-DD)")
    ap.add_argument("--day-to", default=None, help="with --warehouse: last UTC day exported (YYYY-MM-DD)")
    ap.add_argument("--min-free-gb", type=float, default=12.0, help="with --warehouse: the export stops above this")
    ap.add_argument("--deadline", default=None, help="HH:MM UTC: start no Spark query call after it")
    ap.add_argument("--keep-export", action="store_true", help="with --warehouse: leave the export on disk")
    ap.add_argument("--export", type=Path, default=None,
                    help="an existing export (anpr_reads/day=D/, anpr_links/): both engines read it")
    args = ap.parse_args()
    if args.export is not None:
        export_mode(args)
        return
    if args.warehouse is not None:
        warehouse_mode(args)
        return

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
    compare(wh, qs, export, args, f"{n:,} reads, {args.days} days; Parquet export {export_s:.1f} s, "
            f"{size / 2**20:,.0f} MiB")


def compare(wh: Any, qs: dict[str, Any], export: Path, args: argparse.Namespace, header: str,
            duck_engine: Any = None) -> None:
    """DuckDB on ``wh`` (or ``duck_engine``) and the Spark cluster on the Parquet under ``export``,
    the same queries; prints the side-by-side table (and stops if the engines disagree on a row
    count; with ``duck_engine``, on any row)."""
    from precinct.anpr.queries import DuckEngine, SparkQueryEngine
    from precinct.core.sparkcluster import StandaloneCluster
    from precinct.core.warehouse import SparkEngine

    keep = duck_engine is not None
    duck = timed(duck_engine or DuckEngine(wh), qs, args.runs, keep_rows=keep)
    for name, d in duck.items():
        print(f"DuckDB {name}: { {k: v for k, v in d.items() if k != 'result'} }", file=sys.stderr, flush=True)
    mem = args.memory
    exec_mem = f"{int(float(mem[:-1]) * 1024 * 3 / 4)}m" if mem[-1] in "gG" else mem
    with StandaloneCluster(args.work / "cluster", workers=1, cores=args.cores, memory=mem) as cluster:
        t = time.perf_counter()
        spark = SparkEngine(cluster.url, conf={
            "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
            "spark.executor.memory": exec_mem, "spark.local.dir": str(args.work / "driver-tmp"),
            "spark.ui.showConsoleProgress": "false"})
        spark.register_parquet("anpr_reads", export / "anpr_reads")
        spark.register_parquet("anpr_links", export / "anpr_links")
        start_s = time.perf_counter() - t
        log(f"Spark session on {cluster.url} in {start_s:.1f} s")
        try:
            sp = timed(SparkQueryEngine(spark), qs, args.spark_runs or args.runs, args.deadline, keep_rows=keep,
                       children=True)
        finally:
            spark.stop()
    for name in sp:
        if duck[name]["rows"] != sp[name]["rows"]:
            raise SystemExit(f"engines disagree on {name}: duckdb {duck[name]['rows']} rows, "
                             f"spark {sp[name]['rows']} rows")
        if "result" in duck[name] and "result" in sp[name]:
            diff = row_diff(duck[name]["result"], sp[name]["result"])
            log(f"{name}: {duck[name]['rows']:,} rows on both engines, {diff} differing (floats to 1e-6)")
            if diff:
                raise SystemExit(f"engines disagree on {name}: {diff} rows differ")

    load1, load5, _ = os.getloadavg()
    print(f"\n{header}; Spark cluster: 1 worker, {args.cores} cores, executor {exec_mem}; "
          f"session start {start_s:.1f} s")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load1:.1f}/{load5:.1f} at the end")
    print("\n| query | rows | DuckDB cold (CPU) | DuckDB warm (CPU) | Spark cluster cold (CPU) "
          "| Spark cluster warm (CPU) | warm ratio | warm CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name in sp:
        d, s = duck[name], sp[name]
        ratio = s["warm_ms"] / max(d["warm_ms"], 1e-3)
        cpu_ratio = s["warm_cpu_ms"] / max(d["warm_cpu_ms"], 1e-3)
        print(f"| {name} | {d['rows']:,} | {d['cold_ms']:,.0f} ms ({d['cold_cpu_ms']:,.0f}) "
              f"| {d['warm_ms']:,.1f} ms ({d['warm_cpu_ms']:,.0f}) | {s['cold_ms']:,.0f} ms ({s['cold_cpu_ms']:,.0f}) "
              f"| {s['warm_ms']:,.0f} ms ({s['warm_cpu_ms']:,.0f}) | Spark {ratio:,.1f}× | {cpu_ratio:,.1f}× |",
              flush=True)


def row_diff(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> int:
    """How many rows of two results differ, as multisets (floats compared to 6 decimals)."""

    def norm(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(round(v, 6) if isinstance(v, float) else v for v in row)

    left, right = sorted(map(norm, a), key=repr), sorted(map(norm, b), key=repr)
    return sum(x != y for x, y in zip(left, right, strict=True)) + abs(len(a) - len(b))


class ParquetDuck:
    """DuckDB over an export: ``anpr_reads``/``anpr_links`` as the hive-partitioned Parquet folders
    and the projections as the views Spark uses, so both engines see the same tables."""

    def __init__(self, export: Path, temp: Path, min_free_gb: float) -> None:
        import duckdb

        from precinct.anpr import presence

        temp.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect()
        cap = max(1.0, free_gb(temp) - min_free_gb)
        self.con.execute(f"SET temp_directory = '{temp}'")
        self.con.execute(f"SET max_temp_directory_size = '{cap:.1f}GiB'")
        for table in ("anpr_reads", "anpr_links"):  # names and paths are this bench's own
            self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet("
                             f"'{export / table}/**/*.parquet', hive_partitioning = true)")
        for name, sql in presence.SPARK_VIEWS.items():
            self.con.execute(f"CREATE VIEW {name} AS {sql}")

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.con.execute(sql, params).fetchall()
        return rows

    def run(self, query: Any) -> list[tuple[Any, ...]]:
        cur = self.con.cursor()
        try:
            for name, table in query.tables.items():
                cur.register(name, table)
            rows: list[tuple[Any, ...]] = cur.execute(query.sql).fetchall()
            return rows
        finally:
            cur.close()

    def close(self) -> None:
        self.con.close()


def export_mode(args: argparse.Namespace) -> None:
    """DuckDB and the Spark cluster, both on an existing export (the whole county-year)."""
    export = args.export
    reads = export / "anpr_reads"
    size = sum(p.stat().st_size for p in reads.rglob("*.parquet"))
    files = sum(1 for _ in reads.rglob("*.parquet"))
    sampler = ParquetDuck(export, args.work / "duckdb-tmp", args.min_free_gb)
    t = time.perf_counter()
    n, lo, hi = sampler.query("SELECT count(*), min(ts_us), max(ts_us) FROM anpr_reads")[0]
    log(f"export: {n:,} reads, {size / 2**30:.2f} GiB in {files} files ({size / max(n, 1):.1f} bytes per read); "
        f"counted in {time.perf_counter() - t:.1f} s")
    d0 = utc_day(args.day_from) if args.day_from else lo // DAY_US + 1
    d1 = utc_day(args.day_to) if args.day_to else hi // DAY_US - 1
    t = time.perf_counter()
    qs = make_queries(sampler, watch_n=args.watchlist, days=(d0, d1))
    sampler.close()
    day = dt.date(1970, 1, 1)
    span = f"{day + dt.timedelta(days=d0)} to {day + dt.timedelta(days=d1)}"
    log(f"scenes, watchlist and vehicle drawn from {span} in {time.perf_counter() - t:.1f} s")
    duck = ParquetDuck(export, args.work / "duckdb-tmp", args.min_free_gb)
    try:
        compare(duck, qs, export, args,
                f"both engines on the export: {n:,} reads, {size / 2**30:.2f} GiB Parquet in {files} files "
                f"({size / max(n, 1):.1f} bytes per read); scenes/watchlist/trajectory from {span}",
                duck_engine=duck)
    finally:
        duck.close()


def warehouse_mode(args: argparse.Namespace) -> None:
    """DuckDB on an existing warehouse, Spark on the export of some of its days."""
    from precinct.anpr import service

    settings, _db = ab.setup_dir(args.warehouse / "main")
    wh = service.warehouse(settings)
    # DuckDB's spill files may take 90 % of the free disk by default (18 GiB at 1B): keep the floor
    wh.query(f"SET max_temp_directory_size = '{max(1.0, free_gb(args.warehouse) - args.min_free_gb + 2):.1f}GiB'")
    n, lo, hi = wh.query("SELECT count(*), min(ts_us), max(ts_us) FROM anpr_reads")[0]
    d0 = utc_day(args.day_from) if args.day_from else lo // DAY_US + 1
    d1 = utc_day(args.day_to) if args.day_to else hi // DAY_US - 1
    export = args.work / "parquet"
    t, c = time.perf_counter(), time.process_time()
    last, size = export_days(wh, export / "anpr_reads", d0, d1, args.min_free_gb)
    wh.export_parquet("anpr_links", export / "anpr_links")
    export_s, export_cpu = time.perf_counter() - t, time.process_time() - c
    if last < d0:
        raise SystemExit("no day exported: not enough free disk")
    m = wh.query("SELECT count(*) FROM anpr_reads WHERE ts_us >= ? AND ts_us < ?",
                 [d0 * DAY_US, (last + 1) * DAY_US])[0][0]
    day = dt.date(1970, 1, 1)
    span = f"{day + dt.timedelta(days=d0)} to {day + dt.timedelta(days=last)}"
    log(f"exported {m:,} reads ({span}, {last - d0 + 1} days) in {export_s:.1f} s ({export_cpu:.1f} s CPU): "
        f"{size / 2**30:.2f} GiB, {size / max(m, 1):.1f} bytes per read; {free_gb(export):.1f} GiB free")
    qs = make_queries(wh, watch_n=args.watchlist, days=(d0, last))
    try:
        compare(wh, qs, export, args,
                f"DuckDB: the whole warehouse, {n:,} reads; Spark: the export of {span} ({last - d0 + 1} days, "
                f"{m:,} reads, {size / 2**30:.2f} GiB Parquet, {size / max(m, 1):.1f} bytes per read, "
                f"written in {export_s:.1f} s)")
    finally:
        if not args.keep_export:
            shutil.rmtree(export, ignore_errors=True)
            log(f"export removed; {free_gb(args.work):.1f} GiB free")

if __name__ == "__main__":
    main()
