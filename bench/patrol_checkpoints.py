"""Checkpoint planning (设卡盘查) timing on a million-edge road graph, and interception by simulation.

For each scenario: a suspect last seen near the centre ``elapsed`` seconds ago, ``units`` patrol cars
at random junctions within 8 km, up to ``k`` checkpoints for a 15-minute horizon. Timed: the whole
plan (suspect reach, every unit's arrival times, candidate reduction, MILP). Then 500 simulated
fugitive routes (edge times perturbed per draw) are replayed against the plan and against units
waiting at the junction nearest to each of them.

Run:  nice .venv/bin/python bench/patrol_checkpoints.py [--size-km 58] [--scenarios 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from precinct.city import RoadGraph
from precinct.patrol import pursuit
from precinct.patrol.network import drive_matrix


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-km", type=float, default=58.0)
    ap.add_argument("--scenarios", type=int, default=5)
    ap.add_argument("--units", type=int, default=20)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--elapsed", type=float, default=120.0)
    ap.add_argument("--routes", type=int, default=500)
    ap.add_argument("--graph", default=None, help="load a saved RoadGraph (.npz) instead of building")
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {platform.machine()} {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    t = time.perf_counter()
    g = RoadGraph.load(args.graph) if args.graph else RoadGraph.synthetic(size_km=args.size_km, seed=1)
    a = drive_matrix(g)
    print(f"# synthetic city {args.size_km} km: {g.n_nodes:,} nodes, {g.n_edges:,} edges "
          f"(built in {time.perf_counter() - t:.1f} s)")
    xy = g.node_xy
    centre = np.median(xy, axis=0)
    near_centre = np.flatnonzero(np.linalg.norm(xy - centre, axis=1) < 3000)
    rng = np.random.default_rng(0)
    print("| scenario | plan s | plan CPU s | load | suspect s | units s | MILP s | candidate pairs | exits "
          "| checkpoints | routes covered | intercepted (sim) | nearest junction (sim) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for s in range(args.scenarios):
        src = int(rng.choice(near_centre))
        near = np.flatnonzero(np.linalg.norm(xy - xy[src], axis=1) < 8000)
        units = rng.choice(near, args.units, replace=False)
        t, c = time.perf_counter(), time.process_time()
        plan = pursuit.plan_checkpoints(a, src, units, k=args.k, elapsed_s=args.elapsed,
                                        horizon_s=args.elapsed + 900, xy=xy, time_limit=1.5)
        secs, cpu = time.perf_counter() - t, time.process_time() - c
        worst = max(worst, secs)
        esc = pursuit.simulate_escapes(a, src, horizon_s=args.elapsed + 900, n_routes=args.routes, seed=s,
                                       xy=xy)
        # the fugitive has already driven `elapsed` seconds: only what lies ahead can be stopped
        ours = pursuit.intercepted(esc, np.array([c.node for c in plan.checkpoints], dtype=np.int64),
                                   np.array([c.ready_s for c in plan.checkpoints])).mean() if esc.paths else 0.0
        ut = pursuit.unit_times(a, units, 900)
        bn, br = pursuit.nearest_junction_plan(a, units, ut, elapsed_s=args.elapsed, k=args.k)
        base = pursuit.intercepted(esc, bn, br).mean() if esc.paths else 0.0
        st = plan.stats
        print(f"| {s} | {secs:.2f} | {cpu:.2f} | {os.getloadavg()[0]:.1f} "
              f"| {st['suspect_s']:.2f} | {st['units_s']:.2f} | {st.get('milp_s', 0):.2f} "
              f"| {st.get('candidate_pairs', 0)} | {plan.n_exits} | {len(plan.checkpoints)} | {plan.covered:.0%} "
              f"| {ours:.0%} | {base:.0%} |", flush=True)
    print(f"\ntarget: plan under 2 s on a {g.n_edges:,}-edge graph; slowest plan {worst:.2f} s wall: "
          f"{'met' if worst < 2.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
