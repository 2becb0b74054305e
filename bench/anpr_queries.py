"""Plate-read intelligence, query half (issue 6): association, series, trajectory, and the same
association on PostgreSQL + PostGIS in the same run.

    nice .venv/bin/python bench/anpr_queries.py --data /tmp/anpr100m --work /tmp/anprq/w100 --skip postgis
    nice .venv/bin/python bench/anpr_queries.py --data /tmp/anprq/b10/data --work /tmp/anprq/w10

``--data`` is a directory with ``reads.parquet`` in the DESIGN.md reads format (from
``precinct sim generate`` or bench/anpr_bench.py's generator). The warehouse under ``--work`` is
loaded once (and reused by later runs): one transaction per UTC day, each day's reads validated by
the import's own code (``parse.validate``), stored in the import's layout (``store.append_chunk``:
sorted by day and plate) with the query-side projections written as the import writes them
(``presence.record``). The import's own speed is measured by bench/anpr_bench.py.

Every figure is the full analysis call as the CLI and the API make it (warm: the first calls are
not counted). Wall time and process CPU time (DuckDB's threads included) are printed with the
load average, because the machine may be shared. The summary table compares with the issue's
targets; ``--markdown`` prints the rows for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import anpr_bench as ab

DAY_US = 86_400_000_000
#: the source's workload is the watchlist match: every vehicle in 5 km / 2 h against 16,000 plates
TARGETS = {"associate_only_watchlist": 20.0, "series20": 200.0, "trajectory": 50.0}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg} (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)


def load(data: Path, settings: Any, *, chunk_rows: int = 2_000_000) -> dict[str, Any]:
    """Load reads.parquet in 2M-row chunks through the import's reader, validation, store and
    projections (the layout ``precinct anpr import`` makes), one transaction per chunk."""
    from precinct.anpr import parse, presence, service, store

    wh = service.warehouse(settings)
    store.ensure_schema(wh)
    presence.ensure(wh)
    if wh.query("SELECT count(*) FROM anpr_reads")[0][0]:
        return {"loaded": False}
    t = time.perf_counter()
    cpu = time.process_time()
    total = 0
    for chunk in parse.iter_parquet(data / "reads.parquet", chunk_rows=chunk_rows):
        canon, _rejects = parse.validate(chunk, cameras={})
        with wh.transaction() as cur:
            appended = store.append_chunk(cur, canon, batch_id=store.next_counter(cur, "batch"))
            presence.record(cur, appended.stored)
        total += appended.stored.num_rows
        log(f"loaded {total:,} reads")
    wh.checkpoint()
    info = {"loaded": True, "reads": total, "seconds": time.perf_counter() - t, "cpu_s": time.process_time() - cpu}
    # what an operator runs after a day of live ingest (`precinct anpr compact`): each day by plate
    t = time.perf_counter()
    store.compact(wh)
    presence.compact(wh)
    info["compact_seconds"] = time.perf_counter() - t
    return info


def pcts(wall: list[float], cpu: list[float]) -> dict[str, float]:
    s = sorted(wall)
    return {
        "p50": statistics.median(s) * 1000,
        "p95": s[int(0.95 * (len(s) - 1))] * 1000,
        "cpu_p50": statistics.median(cpu) * 1000,
        "n": len(s),
    }


def measure(fn: Any, n: int, warm: int = 3) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Time ``fn(i)``; keep only each answer's sizes (a server does not keep its answers, and
    holding hundreds of thousands of result objects would make every garbage collection in
    the later calls slower than it is in a server)."""
    wall, cpu, outs = [], [], []
    for i in range(n + warm):
        with ab.Timer() as tm:
            out = fn(i)
        if i >= warm:
            wall.append(tm.wall)
            cpu.append(tm.cpu)
            outs.append({k: (len(v) if isinstance(v, list) else v) for k, v in out.items() if not isinstance(v, dict)})
        del out
    return pcts(wall, cpu), outs


def build_index(wh: Any) -> Any:
    """The whole-history presence index, as the server builds it at start-up."""
    from precinct.anpr import history

    try:
        return history.index_for(wh, build=True)
    except TypeError:  # a release before the table path (the index was always built)
        return history.index_for(wh)


def bench(
    settings: Any, db: Any, *, runs: int, watch_n: int, seed: int, paths: bool, table_path: bool = False
) -> dict[str, Any]:
    """The queries, warm. With ``table_path``, the association is first measured as a process
    that never builds the whole-history presence index answers it (rarity read from the presence
    table: ``associate*_table``), then the index is built as the server does and everything is
    measured with it."""
    from precinct.anpr import analysis, service
    from precinct.anpr.queries import DuckEngine, Scene

    wh = service.warehouse(settings)
    eng = DuckEngine(wh)
    res: dict[str, Any] = {"reads": wh.query("SELECT count(*) FROM anpr_reads")[0][0]}
    rng = np.random.default_rng(seed)
    watch = ab.sample_watchlist(wh, watch_n, rng)
    scenes = ab.pick_scenes(wh, runs + 3, seed)

    def assoc(lookback: int, only: bool = False) -> Any:
        def f(i: int) -> Any:
            lat, lon, t0, t1 = scenes[i]
            return analysis.associate(
                eng, lat=lat, lon=lon, radius_km=5.0, t0_us=t0, t1_us=t1, watchlist=watch, lookback_days=lookback,
                only_watchlist=only,
            )

        return f

    if table_path:
        for label, lb, only in (("associate_table", 14, False), ("associate_only_watchlist_table", 14, True)):
            stats, outs = measure(assoc(lb, only), runs)
            res[label] = stats | {"candidates_median": statistics.median(o["candidates"] for o in outs)}
            log(f"{label}: {res[label]}")
    with ab.Timer() as tm:
        idx = build_index(wh)
    res["index"] = {"seconds": tm.wall, "cpu_s": tm.cpu, "rows": sum(p.rows for p in idx.parts),
                    "cells": len(idx.cells)}
    log(f"presence index: {res['index']}")
    for label, lb, only in (
        ("associate", 14, False),
        ("associate_no_rarity", 0, False),
        ("associate_only_watchlist", 14, True),
    ):
        stats, outs = measure(assoc(lb, only), runs)
        res[label] = stats | {
            "candidates_median": statistics.median(o["candidates"] for o in outs),
            "scanned_median": statistics.median(o["scanned_reads"] for o in outs),
        }
        log(f"{label}: {res[label]}")
    sc20 = []
    for k in range(max(5, runs // 4) + 3):
        sc = ab.pick_scenes(wh, 20, seed + 100 + k, hours=3)
        sc20.append([Scene(f"S{j}", a, b, c, d, 1.0) for j, (a, b, c, d) in enumerate(sc)])
    stats, outs = measure(lambda i: analysis.series(eng, scenes=sc20[i], min_cases=2), len(sc20) - 3)
    res["series20"] = stats | {"candidates_median": statistics.median(o["candidates"] for o in outs)}
    log(f"series20: {res['series20']}")
    lo, hi = wh.query("SELECT min(ts_us), max(ts_us) FROM anpr_reads")[0]
    t0 = max(lo, hi - 30 * DAY_US)
    busy = ab.trajectory_plates(wh, runs + 3)
    kinds = [("trajectory", False)] + ([("trajectory_paths", True)] if paths else [])
    for label, with_paths in kinds:
        city = cams = None
        if with_paths:
            from precinct.city.service import current_city

            city = current_city(settings)
            cams = service.cameras(db)
        stats, outs = measure(
            lambda i, wp=with_paths, c=city, cm=cams: analysis.trajectory(
                eng, plate=busy[i % len(busy)], t0_us=t0, t1_us=hi, paths=wp, city=c, cameras=cm
            ),
            min(runs, len(busy) - 3),
        )
        res[label] = stats | {"reads_median": statistics.median(o["reads"] for o in outs)}
        log(f"{label}: {res[label]}")
    res["scenes"], res["watch"] = scenes, watch
    return res


def summary(r: dict[str, Any], pg: dict[str, Any] | None, load_avg: tuple[float, float, float]) -> str:
    lines = [
        f"reads {r['reads']:,}; load average {load_avg[0]:.1f} {load_avg[1]:.1f} {load_avg[2]:.1f}",
        f"{'measure':<34}{'p50 ms':>9}{'CPU ms':>9}{'p95 ms':>9}{'target':>9}  verdict (p50)",
    ]
    for key, label in (
        ("associate_only_watchlist_table", "association, no index (table)"),
        ("associate_table", "  all ranked, no index (table)"),
        ("associate_only_watchlist", "association 5 km 2 h 16k watchlist"),
        ("associate", "  all vehicles ranked, not only hits"),
        ("associate_no_rarity", "  all ranked, no rarity history"),
        ("series20", "series over 20 scenes"),
        ("trajectory", "trajectory over a month"),
        ("trajectory_paths", "  same with road paths"),
    ):
        if key not in r:
            continue
        x = r[key]
        tgt = TARGETS.get(key.removesuffix("_table"))
        verdict = "" if tgt is None else ("met" if x["p50"] <= tgt else "NOT met")
        lines.append(
            f"{label:<34}{x['p50']:>9.1f}{x['cpu_p50']:>9.1f}{x['p95']:>9.1f}"
            f"{(f'{tgt:.0f}' if tgt else ''):>9}  {verdict}"
        )
    if pg and "p50" in pg:
        lines.append(
            f"{'PostGIS same association':<34}{pg['p50']:>9.1f}{'':>9}{pg['p95']:>9.1f}{'':>9}  "
            f"DuckDB {pg['p50'] / r['associate']['p50']:.1f}x faster (agree {pg['agree_of_10']}/10)"
        )
    elif pg:
        lines.append(f"PostGIS: {pg.get('skipped')}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="directory with reads.parquet")
    ap.add_argument("--work", type=Path, required=True, help="warehouse directory (loaded once, reused)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--watchlist", type=int, default=16_000)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--skip", default="", help="comma list: postgis,paths")
    ap.add_argument(
        "--pg-url", default=os.environ.get("PRECINCT_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    settings, db = ab.setup_dir(args.work / "main")
    info = load(args.data, settings)
    if info.get("loaded"):
        log(f"loaded: {info}")
    r = bench(settings, db, runs=args.runs, watch_n=args.watchlist, seed=args.seed, paths="paths" not in skip)
    pg = None
    if "postgis" not in skip:
        pg = ab.bench_postgis(settings, r, base_url=args.pg_url, runs=args.runs)
    load_avg = os.getloadavg()
    text = summary(r, pg, load_avg)
    print(text)
    out = {k: v for k, v in r.items() if k not in ("scenes", "watch")}
    record = {"date": dt.datetime.now(dt.UTC).isoformat(), "argv": sys.argv[1:], "load": load_avg, "results": out,
              "postgis": pg, "load_info": info}
    (args.work / "queries_results.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
