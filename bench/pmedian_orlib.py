"""p-median benchmark: OR-Library pmed1-40 against their published optima, spopt side by side, and the
simulated county (10,000 demand points x 1,000 candidates, P = 9 and 30).

Data: the OR-Library files pmed1.txt ... pmed40.txt (Beasley 1985) in ``--data`` (default
``$PRECINCT_ORLIB_DIR``, else ``shared/data/orlib-pmed`` beside the checkout). The county is the
``road`` instance of bench/patrol_pcenter.py (synthetic city, hotspot demand, free-flow seconds).
spopt (dev extra) solves the assignment formulation through PuLP on HiGHS with the same time cap,
on the instances up to ``--spopt-max-n`` demand points; the ratio is spopt seconds / Precinct's.

Run:  nice .venv/bin/python bench/pmedian_orlib.py [--cap 30] [--instances 1-40] [--county-cap 60]
      [--no-county | --only-county] [--spopt-max-n 200]
Each row gives wall and CPU seconds (this process) and the 1-minute load average after the solve.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from precinct.patrol import solvers
from precinct.patrol.demand import read_orlib_pmed

OPT = [5819, 4093, 4250, 3034, 1355, 7824, 5631, 4445, 2734, 1255, 7696, 6634, 4374, 2968, 1729, 8162, 6999, 4809,
       2845, 1789, 9138, 8579, 4619, 2961, 1828, 9917, 8307, 4498, 3033, 1989, 10086, 9297, 4700, 3013, 10400, 9934,
       5057, 11060, 9423, 5128]


def data_dir(arg: str | None) -> Path:
    for c in [arg, os.environ.get("PRECINCT_ORLIB_DIR"),
              str(Path(__file__).resolve().parents[2] / "shared" / "data" / "orlib-pmed")]:
        if c and (Path(c) / "pmed1.txt").exists():
            return Path(c)
    sys.exit("OR-Library pmed files not found: give --data DIR or set PRECINCT_ORLIB_DIR")


def run_spopt(d: np.ndarray, p: int, cap: float) -> tuple[float | None, float, str]:
    import pulp
    from spopt.locate import PMedian

    t = time.perf_counter()
    model = PMedian.from_cost_matrix(d, np.ones(d.shape[0]), p_facilities=p)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            model.solve(pulp.HiGHS(msg=False, timeLimit=cap))
    except RuntimeError:
        return None, time.perf_counter() - t, f"not solved in {cap:.0f} s cap"
    secs = time.perf_counter() - t
    opened = [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
    if not opened or secs >= cap:
        return None, secs, f"hit the {cap:.0f} s cap"
    return float(d[:, opened].min(axis=1).sum()), secs, pulp.LpStatus[model.problem.status]


def timed(d: np.ndarray, p: int, cap: float) -> tuple[solvers.PostSolution, float, float, float]:
    t, c = time.perf_counter(), time.process_time()
    sol = solvers.p_median(d, p, time_limit=cap)
    return sol, time.perf_counter() - t, time.process_time() - c, os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    ap.add_argument("--cap", type=float, default=30.0, help="seconds per OR-Library instance, both solvers")
    ap.add_argument("--instances", default="1-40")
    ap.add_argument("--spopt-max-n", type=int, default=200, help="largest n given to spopt (n*n PuLP variables)")
    ap.add_argument("--county-cap", type=float, default=60.0)
    ap.add_argument("--no-county", action="store_true")
    ap.add_argument("--only-county", action="store_true")
    args = ap.parse_args()
    lo, _, hi = args.instances.partition("-")
    ks = range(0) if args.only_county else range(int(lo), int(hi or lo) + 1)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} UTC, {platform.machine()} {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    root = data_dir(args.data) if ks else Path(".")
    print("| pmed | n | p | Precinct s | CPU s | load | status (gap) | nodes | value | published | equal "
          "| spopt s | spopt status | spopt equal | spopt / Precinct |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    met = 0
    worst = 0.0
    for k in ks:
        d, p = read_orlib_pmed(root / f"pmed{k}.txt")
        sol, wall, cpu, load = timed(d, p, args.cap)
        equal = sol.value == OPT[k - 1]
        ok = sol.optimal and equal and wall <= args.cap
        met += ok
        worst = max(worst, wall)
        row = (f"| {k} | {d.shape[0]} | {p} | {wall:.2f} | {cpu:.2f} | {load:.1f} | {sol.stats['status']} "
               f"({sol.gap:.3%}) | {sol.stats.get('nodes', 0)} | {sol.value:.0f} | {OPT[k - 1]} | {equal} |")
        if d.shape[0] <= args.spopt_max_n:
            val, secs, status = run_spopt(d, p, args.cap)
            ratio = f"{secs / wall:.1f}x" if val is not None else f"> {secs / wall:.0f}x"
            row += f" {secs:.2f} | {status} | {val == OPT[k - 1] if val is not None else '-'} | {ratio} |"
        else:
            row += " - | not run (n > --spopt-max-n) | - | - |"
        print(row, flush=True)
    print(f"\n**{met} of {len(ks)} proven at the published optimum within {args.cap:.0f} s; "
          f"slowest {worst:.1f} s wall.**\n")
    if args.no_county:
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from patrol_pcenter import road_instance

    t = time.perf_counter()
    d = road_instance(10000, 1000)
    print(f"# county built in {time.perf_counter() - t:.1f} s: {d.shape[0]} x {d.shape[1]}, "
          f"{np.unique(d, axis=0).shape[0]} distinct rows")
    print("| county | P | Precinct s | CPU s | load | status (gap) | value | bound | method | nodes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in (9, 30):
        sol, wall, cpu, load = timed(d, p, args.county_cap)
        print(f"| 10000 x 1000 | {p} | {wall:.1f} | {cpu:.1f} | {load:.1f} | {sol.stats['status']} ({sol.gap:.4%}) "
              f"| {sol.value:.1f} | {sol.bound:.1f} | {sol.stats['method']} | {sol.stats.get('nodes', 0)} |",
              flush=True)


if __name__ == "__main__":
    main()
