"""A county-year of plate reads (issue 23): import a ``precinct sim generate --by-day`` run day by
day, compact, and query, every step resumable and watching the disk.

    # 1. generate (resumable: the same command again continues where it stopped)
    nice -n 19 .venv/bin/precinct sim generate --cameras 4200 --days 365 --reads-per-day 3160000 \\
        --seed 1 --by-day --resume --out /tmp/anpr1b/gen
    # 2. import the days written so far (--follow: keep importing while generation runs)
    nice -n 19 .venv/bin/python bench/anpr_county_year.py import --gen /tmp/anpr1b/gen \\
        --work /tmp/anpr1b/wh --delete-imported --follow --until 09:10
    # 3. compact a UTC day per transaction (resumable), then 4. the queries
    nice -n 19 .venv/bin/python bench/anpr_county_year.py compact --work /tmp/anpr1b/wh
    nice -n 19 .venv/bin/python bench/anpr_county_year.py queries --work /tmp/anpr1b/wh --runs 10
    # 5. retention of one day (erases the first stored day)
    nice -n 19 .venv/bin/python bench/anpr_county_year.py retention --work /tmp/anpr1b/wh
    # the association's first call in 5 fresh processes (p50), and pending warehouse migrations, timed
    nice -n 19 .venv/bin/python bench/anpr_county_year.py cold --work /tmp/anpr1b/wh --runs 5 --label after
    nice -n 19 .venv/bin/python bench/anpr_county_year.py upgrade --work /tmp/anpr1b/wh

Import: each day's file is one call of the import's own service (``service.ingest``: validation,
deduplication, the store's (day, plate) layout, the presence projections, hotlist alerts, one
audit record), as ``precinct anpr import FILE`` does, in one long-lived process. What has been
imported is recorded in ``<work>/county_state.json`` after each day; a day imported but not yet
recorded is stored once only (the import skips reads whose (read_id, ts) is stored), so stopping
at any moment and running the same command again is safe. The sim's watchlist becomes the
hotlist as soon as the generator has written it (it writes the tables after the last day).

Disk: before each day the free space must stay above ``--min-free-gb`` (default 10) after the
day's expected growth, otherwise the step stops and says so. ``--delete-imported`` removes each
day's Parquet file once its import is committed and recorded.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import anpr_bench as ab

DAY_US = 86_400_000_000
BYTES_PER_READ = 64  # warehouse growth per read (5.4 GiB per 100M at the 100M run, plus margin)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg} (load {os.getloadavg()[0]:.1f})", flush=True)


def free_gb(path: Path) -> float:
    return shutil.disk_usage(path).free / 2**30


def du_gb(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += (Path(root) / f).stat().st_size
            except FileNotFoundError:
                continue
    return total / 2**30


def guard_temp(wh: Any, work: Path, min_free_gb: float) -> None:
    """Cap DuckDB's spill files (``precinct.duckdb.tmp``) so that free disk stays above
    ``min_free_gb``: DuckDB's default allows 90 % of the free space, and the whole-history
    presence index build spilled 18 GiB at 1B reads (free disk went from 20.8 to 2.4 GiB)."""
    cap = max(1.0, free_gb(work) - min_free_gb)
    wh.query(f"SET max_temp_directory_size = '{cap:.1f}GiB'")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class State:
    """``<work>/county_state.json``: per step, what is done (written atomically after each unit)."""

    def __init__(self, work: Path) -> None:
        self.path = work / "county_state.json"
        self.data: dict[str, Any] = (
            json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        )

    def save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def past(until: str | None) -> bool:
    if not until:
        return False
    h, m = (int(x) for x in until.split(":"))
    now = dt.datetime.now(dt.UTC)
    return (now.hour, now.minute) >= (h, m)


def _hotlist(db: Any, gen: Path, st: State) -> None:
    from precinct.anpr import service

    if st.data.get("hotlist") or not (gen / "watchlist.csv").exists():
        return
    with open(gen / "watchlist.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    service.add_hotlist(db, rows, actor="bench", role="admin")
    st.data["hotlist"] = {"entries": len(rows), "from_file_no": len(st.data.get("imported", {})),
                          "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    st.save()
    log(f"hotlist: {len(rows):,} entries from watchlist.csv")


def cmd_import(args: argparse.Namespace) -> int:
    from precinct.anpr import service

    settings, db = ab.setup_dir(args.work / "main")
    wh = service.warehouse(settings)
    guard_temp(wh, args.work, args.min_free_gb)
    st = State(args.work)
    done: dict[str, Any] = st.data.setdefault("imported", {})
    while True:
        if args.follow and not (args.gen / "manifest.json").exists():
            time.sleep(10)  # the generator writes its manifest once the scenario is built
            continue
        manifest = json.loads((args.gen / "manifest.json").read_text(encoding="utf-8"))
        todo = [f for f in manifest["files"] if f["file"] not in done]
        if not todo or todo[0]["day"] >= args.hotlist_from_day:
            _hotlist(db, args.gen, st)
        if not todo:
            if manifest["complete"] or not args.follow:
                log(f"imported {len(done)} files; generation complete: {manifest['complete']}")
                return 0
            if past(args.until):
                log("stopping: --until reached")
                return 0
            time.sleep(30)
            continue
        for f in todo:
            if past(args.until):
                log("stopping: --until reached (run the same command to continue)")
                return 0
            need = f["rows"] * BYTES_PER_READ / 2**30
            if free_gb(args.work) - need < args.min_free_gb:
                log(f"STOP: {free_gb(args.work):.1f} GiB free, the next day needs about {need:.1f} GiB "
                    f"and {args.min_free_gb} GiB must stay free")
                return 2
            if f["day"] >= args.hotlist_from_day:
                _hotlist(db, args.gen, st)
            path = args.gen / f["file"]
            t = time.perf_counter()
            cpu = time.process_time()
            res = service.ingest(
                db=db, wh=wh, source=service.file_source(path, chunk_rows=args.chunk_rows), actor="bench",
                role="admin", origin=str(path), raise_alerts=True,
            )
            wh.checkpoint()
            wall = time.perf_counter() - t
            done[f["file"]] = {
                "rows": f["rows"], "stored": res.stored, "duplicates": res.duplicates, "rejected": res.rejected,
                "alerts": len(res.alerts), "seconds": round(wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "load1": os.getloadavg()[0],
                "free_gb": round(free_gb(args.work), 2), "rss_mib": round(peak_rss_mib()),
            }
            st.save()
            if args.delete_imported:
                path.unlink(missing_ok=True)
            total = sum(v["stored"] for v in done.values())
            log(f"{f['file']}: {res.stored:,} stored, {res.duplicates:,} dup, {len(res.alerts)} alerts, "
                f"{wall:.1f} s ({res.stored / max(wall, 1e-9):,.0f}/s); total {total:,}; "
                f"free {free_gb(args.work):.1f} GiB; peak RSS {peak_rss_mib():.0f} MiB")


def cmd_compact(args: argparse.Namespace) -> int:
    from precinct.anpr import presence, service, store
    from precinct.anpr.layout import BY_TIME, rewrite_days

    settings, _db = ab.setup_dir(args.work / "main")
    wh = service.warehouse(settings)
    guard_temp(wh, args.work, args.min_free_gb)
    st = State(args.work)
    done: dict[str, Any] = st.data.setdefault("compacted", {})
    presence.ensure(wh)
    lo, hi = wh.query("SELECT min(ts_us), max(ts_us) FROM anpr_reads")[0]
    this_run = 0
    for day in range(lo // DAY_US, hi // DAY_US + 1):
        if str(day) in done:
            continue
        if args.max_days is not None and this_run >= args.max_days:
            log(f"stopping: {this_run} days compacted (--max-days; run the same command to continue)")
            break
        this_run += 1
        if past(args.until):
            log("stopping: --until reached (run the same command to continue)")
            return 0
        if free_gb(args.work) < args.min_free_gb:
            log(f"STOP: {free_gb(args.work):.1f} GiB free")
            return 2
        t, cpu = time.perf_counter(), time.process_time()
        n = store.compact(wh, day_from=day, day_to=day)
        n2 = rewrite_days(wh, BY_TIME, "ts_us, rid", ts_from=day * DAY_US, ts_to=(day + 1) * DAY_US)
        if hasattr(presence, "sort_presence"):  # the presence rows of the day in (day, cell, vehicle) order
            presence.sort_presence(wh, day_from=day, day_to=day)
        wall = time.perf_counter() - t
        cpu = time.process_time() - cpu
        done[str(day)] = {"rows": n, "by_time_rows": n2, "seconds": round(wall, 2), "cpu_s": round(cpu, 2),
                          "load1": os.getloadavg()[0], "free_gb": round(free_gb(args.work), 2)}
        st.save()
        log(f"day {day}: {n:,} reads re-sorted in {wall:.1f} s ({cpu:.1f} s CPU); free {free_gb(args.work):.1f} GiB")
    wh.checkpoint()
    log(f"compacted {len(done)} days; warehouse {du_gb(args.work):.1f} GiB")
    return 0


def cmd_queries(args: argparse.Namespace) -> int:
    import anpr_queries as aq
    from precinct.anpr import analysis, service
    from precinct.anpr.queries import DuckEngine

    settings, db = ab.setup_dir(args.work / "main")
    load0 = os.getloadavg()
    wh = service.warehouse(settings)
    guard_temp(wh, args.work, args.min_free_gb)
    # Cold: the first association of a fresh process (DuckDB buffers empty, no presence index;
    # a release before the table path built the whole-history index here). See also `cold`.
    import numpy as np

    eng = DuckEngine(wh)
    scenes = ab.pick_scenes(wh, 1, args.seed + 50)
    watch = ab.sample_watchlist(wh, args.watchlist, np.random.default_rng(args.seed))
    lat, lon, t0, t1 = scenes[0]
    with ab.Timer() as tm:
        analysis.associate(eng, lat=lat, lon=lon, radius_km=5.0, t0_us=t0, t1_us=t1, watchlist=watch,
                           lookback_days=14, only_watchlist=True)
    cold = {"wall_ms": tm.wall * 1000, "cpu_ms": tm.cpu * 1000}
    log(f"cold association (first call of the process): {cold}")
    r = aq.bench(settings, db, runs=args.runs, watch_n=args.watchlist, seed=args.seed, paths=False, table_path=True)
    # A year-long trajectory: busy vehicles over every stored day (anpr_queries' is a month).
    lo, hi = wh.query("SELECT min(ts_us), max(ts_us) FROM anpr_reads")[0]
    busy = ab.trajectory_plates(wh, args.runs + 3)
    stats, outs = aq.measure(
        lambda i: analysis.trajectory(eng, plate=busy[i % len(busy)], t0_us=lo, t1_us=hi), min(args.runs, len(busy) - 3)
    )
    import statistics

    r["trajectory_year"] = stats | {"reads_median": statistics.median(o["reads"] for o in outs)}
    log(f"trajectory_year: {r['trajectory_year']}")
    if args.gen is not None and (args.gen / "truth.json").exists():
        r["stories"] = _stories(eng, args.gen, lo, hi)
    text = aq.summary(r, None, os.getloadavg())
    x = r["trajectory_year"]
    text += f"\n{'trajectory over the whole period':<34}{x['p50']:>9.1f}{x['cpu_p50']:>9.1f}{x['p95']:>9.1f}"
    print(text)
    out = {k: v for k, v in r.items() if k not in ("scenes", "watch")}
    record = {"date": dt.datetime.now(dt.UTC).isoformat(), "argv": sys.argv[1:], "load_start": load0,
              "load_end": os.getloadavg(), "cold_association": cold, "results": out,
              "warehouse_gib": du_gb(args.work), "peak_rss_mib": peak_rss_mib()}
    (args.work / "county_queries.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    log(f"warehouse {record['warehouse_gib']:.1f} GiB, peak RSS {record['peak_rss_mib']:.0f} MiB")
    return 0


def _stories(eng: Any, gen: Path, lo: int, hi: int) -> dict[str, Any]:
    """The planted cloned plate, looked for on each of its clone days that is in the warehouse
    (``cloned`` over the whole county for that local day, 150 km/h as in the simulator's truth)."""
    from precinct.anpr import analysis_vehicle

    truth = json.loads((gen / "truth.json").read_text(encoding="utf-8"))
    st = truth["stories"].get("cloned_plate")
    out: dict[str, Any] = {}
    for day in st["clone_days"] if st else []:
        t0 = int(dt.datetime.fromisoformat(day + "T00:00:00+08:00").timestamp() * 1_000_000)
        if t0 < lo or t0 + DAY_US > hi:
            continue
        with ab.Timer() as tm:
            res = analysis_vehicle.cloned(eng, t0_us=t0, t1_us=t0 + DAY_US, max_speed_kmh=150.0, min_distance_km=2.0)
        plates = {c["plate"]: c["impossible_pairs"] for c in res["candidates"]}
        out[day] = {"planted": st["plate"], "found": st["plate"] in plates, "pairs": plates.get(st["plate"], 0),
                    "other_plates": len(plates) - (st["plate"] in plates), "seconds": round(tm.wall, 2),
                    "cpu_s": round(tm.cpu, 2)}
        log(f"cloned plates on {day}: {out[day]}")
    return out


def cmd_retention(args: argparse.Namespace) -> int:
    """Retention of one day: erase the first stored UTC day as ``precinct retention run`` would
    when that day passes the retention period (audited, alert/case-pinned reads kept)."""
    from precinct.anpr import retention, service

    settings, db = ab.setup_dir(args.work / "main")
    wh = service.warehouse(settings)
    guard_temp(wh, args.work, args.min_free_gb)
    lo, n0 = wh.query("SELECT min(ts_us), count(*) FROM anpr_reads")[0]
    cut = dt.datetime.fromtimestamp((lo // DAY_US + 1) * DAY_US / 1e6, dt.UTC)
    now = cut + dt.timedelta(days=settings.anpr_retention_days)
    with ab.Timer() as tm:
        res = retention.run(db=db, settings=settings, now=now, actor="bench")
    wh.checkpoint()
    st = State(args.work)
    st.data.setdefault("retention", []).append(
        {"cutoff": cut.isoformat(), "reads_before": n0, "result": res, "seconds": round(tm.wall, 2),
         "cpu_s": round(tm.cpu, 2), "load1": os.getloadavg()[0], "free_gb": round(free_gb(args.work), 2)}
    )
    st.save()
    log(f"retention of one day: {res[0]['erased']:,} reads erased ({res[0]['kept']:,} kept) of {n0:,} "
        f"in {tm.wall:.1f} s ({tm.cpu:.1f} s CPU)")
    return 0


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Apply pending warehouse migrations (what a server's start-up or ``precinct warehouse
    upgrade`` does), timed."""
    from precinct.anpr import warehouse_migrations
    from precinct.core.warehouse import Warehouse

    settings, _db = ab.setup_dir(args.work / "main")
    wh = Warehouse.for_settings(settings)
    before = warehouse_migrations.status(wh).version
    with ab.Timer() as tm:
        done = warehouse_migrations.upgrade(wh)
    wh.checkpoint()
    st = State(args.work)
    st.data.setdefault("upgrades", []).append(
        {"from": before, "applied": [m.version for m in done], "seconds": round(tm.wall, 2), "cpu_s": round(tm.cpu, 2),
         "load1": os.getloadavg()[0], "rss_mib": round(peak_rss_mib()), "warehouse_gib": round(du_gb(args.work), 2)})
    st.save()
    log(f"warehouse upgraded from {before} by {[m.version for m in done]} in {tm.wall:.1f} s ({tm.cpu:.1f} s CPU), "
        f"peak RSS {peak_rss_mib():.0f} MiB")
    return 0


def cmd_cold(args: argparse.Namespace) -> int:
    """The association's first call in each of ``--runs`` fresh processes (one scene each; the
    process opens the warehouse, picks its scene and watchlist, then times the one call). The OS
    page cache is not dropped: "cold" is the process (DuckDB's buffers, Python, any index), not the disk."""
    import statistics
    import subprocess

    recs = []
    for i in range(args.runs):
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "cold1", "--work", str(args.work), "--scene", str(i),
             "--watchlist", str(args.watchlist), "--seed", str(args.seed)],
            capture_output=True, text=True, check=True,
        )
        rec = json.loads(out.stdout.strip().splitlines()[-1]) | {"process_s": round(time.perf_counter() - t, 2)}
        recs.append(rec)
        log(f"cold run {i}: {rec}")
    summary = {k: statistics.median(r[k] for r in recs) for k in ("wall_ms", "cpu_ms", "process_s", "rss_mib")}
    summary |= {"max_wall_ms": max(r["wall_ms"] for r in recs), "runs": len(recs), "load1": os.getloadavg()[0]}
    st = State(args.work)
    st.data.setdefault("cold", []).append({"label": args.label, "summary": summary, "runs": recs,
                                           "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    st.save()
    log(f"cold association ({args.label}), p50 of {len(recs)} fresh processes: {summary}")
    return 0


def cmd_cold1(args: argparse.Namespace) -> int:
    import numpy as np

    from precinct.anpr import analysis, service
    from precinct.anpr.queries import DuckEngine

    settings, _db = ab.setup_dir(args.work / "main")
    wh = service.warehouse(settings)
    guard_temp(wh, args.work, args.min_free_gb)
    eng = DuckEngine(wh)
    lat, lon, t0, t1 = ab.pick_scenes(wh, args.scene + 1, args.seed + 50)[args.scene]
    watch = ab.sample_watchlist(wh, args.watchlist, np.random.default_rng(args.seed))
    with ab.Timer() as tm:
        out = analysis.associate(eng, lat=lat, lon=lon, radius_km=5.0, t0_us=t0, t1_us=t1, watchlist=watch,
                                 lookback_days=14, only_watchlist=True)
    days = sum(c["components"]["days_seen_before"] for c in out["candidates"])
    print(json.dumps({"wall_ms": round(tm.wall * 1000, 1), "cpu_ms": round(tm.cpu * 1000, 1),
                      "candidates": len(out["candidates"]), "scanned": out["scanned_reads"], "days_seen_sum": days,
                      "answer_sha": hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest()[:16],
                      "rss_mib": round(peak_rss_mib())}))
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="step", required=True)
    for name in ("import", "compact", "queries", "retention", "upgrade", "cold", "cold1"):
        p = sub.add_parser(name)
        p.add_argument("--work", type=Path, required=True, help="warehouse directory (state kept here)")
        p.add_argument("--min-free-gb", type=float, default=10.0)
        p.add_argument("--until", default=None, help="stop cleanly between days after HH:MM UTC")
        if name == "import":
            p.add_argument("--gen", type=Path, required=True, help="a sim generate --by-day directory")
            p.add_argument("--chunk-rows", type=int, default=4_000_000)
            p.add_argument("--delete-imported", action="store_true")
            p.add_argument("--follow", action="store_true", help="wait for days still being generated")
            p.add_argument("--hotlist-from-day", type=int, default=0,
                           help="load the sim's watchlist as the hotlist only before the first file of this day "
                                "index (manifest 'day', 0-based) or later: alerts halve the ingest throughput")
        if name == "compact":
            p.add_argument("--max-days", type=int, default=None, help="compact at most this many days, then stop")
        if name == "queries":
            p.add_argument("--runs", type=int, default=10)
            p.add_argument("--watchlist", type=int, default=16_000)
            p.add_argument("--seed", type=int, default=6)
            p.add_argument("--gen", type=Path, default=None, help="the generated run (truth.json: planted stories)")
        if name in ("cold", "cold1"):
            p.add_argument("--watchlist", type=int, default=16_000)
            p.add_argument("--seed", type=int, default=6)
        if name == "cold":
            p.add_argument("--runs", type=int, default=5, help="fresh processes, one association each")
            p.add_argument("--label", default="", help="recorded with the figures (e.g. before/after)")
        if name == "cold1":
            p.add_argument("--scene", type=int, default=0)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    steps = {"import": cmd_import, "compact": cmd_compact, "queries": cmd_queries, "retention": cmd_retention,
             "upgrade": cmd_upgrade, "cold": cmd_cold, "cold1": cmd_cold1}
    sys.exit(steps[args.step](args))


if __name__ == "__main__":
    main()
