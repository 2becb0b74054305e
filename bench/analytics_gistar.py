"""Gi* benchmark: Precinct's vectorised Getis-Ord Gi* against esda's G_Local(star=True), side by side.

Input (built here, seeded): a 250 x 400 grid (100,000 cells of 250 m) of burglary-like counts:
Poisson background plus 40 Gaussian hotspots; queen contiguity with the cell itself; 999
conditional permutations; binary weights (transform="B"). esda gets the same counts and the same
weights (libpysal ``lat2W``), its numba kernels warmed up on a small grid first (compile time is not
counted), ``n_jobs=-1`` (all cores, its default). Both results are checked: z-scores equal to 1e-9,
p_sim within Monte Carlo error.

Run:  nice .venv/bin/python bench/analytics_gistar.py [--rows 250 --cols 400 --permutations 999]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np

from precinct.analytics.gistar import gi_star
from precinct.analytics.grid import queen_weights


def counts(rows: int, cols: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(rows * cols), cols)
    lam = np.full(rows * cols, 0.3)
    for _ in range(40):
        hr, hc, s = rng.uniform(0, rows), rng.uniform(0, cols), rng.uniform(1.5, 6)
        lam += rng.uniform(1, 6) * np.exp(-((r - hr) ** 2 + (c - hc) ** 2) / (2 * s * s))
    return rng.poisson(lam).astype(np.float64)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=250)
    ap.add_argument("--cols", type=int, default=400)
    ap.add_argument("--permutations", type=int, default=999)
    args = ap.parse_args()
    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    y = counts(args.rows, args.cols)
    n = y.size
    print(f"{n:,} cells, {int(y.sum()):,} events, {args.permutations} permutations; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    warnings.simplefilter("ignore")
    G_Local(counts(10, 10), lat2W(10, 10, rook=False), transform="B", star=True, permutations=99, seed=1)

    t0 = time.perf_counter()
    w = queen_weights(args.rows, args.cols)
    ours = gi_star(y, w, permutations=args.permutations, seed=3)
    t_ours = time.perf_counter() - t0

    lw = lat2W(args.rows, args.cols, rook=False)
    t0 = time.perf_counter()
    ref = G_Local(y, lw, transform="B", star=True, permutations=args.permutations, seed=3)
    t_ref = time.perf_counter() - t0

    dz = float(np.abs(ours.z - ref.Zs).max())
    assert ours.p_sim is not None
    p = np.clip(ref.p_sim, 1 / (args.permutations + 1), 1)
    se = np.sqrt(2 * p * (1 - p) / args.permutations) + 1 / (args.permutations + 1)
    worst = float((np.abs(ours.p_sim - ref.p_sim) / se).max())
    print(f"precinct gi_star : {t_ours:8.3f} s (weights built inside the clock)")
    print(f"esda G_Local     : {t_ref:8.3f} s (weights built outside the clock)")
    print(f"speed-up         : {t_ref / t_ours:8.1f} x   (target >= 10 x)")
    print(f"max |dz| = {dz:.2e}; max |dp_sim| / MC s.e. = {worst:.2f} over {n:,} cells; "
          f"load at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
