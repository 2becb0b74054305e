"""Forecast fitting benchmark: the self-exciting model (EM) on a year of a county's incidents.

Input (built here, seeded): about 100,000 events in one year over a 40 x 40 km county, a Hawkes
process (background 220/day, half of it in 30 hot areas; each event triggers Poisson(0.3)
offspring, delay Exp(mean 5 days), displacement N(0, 80 m)); 250 m grid. Target: fit within a
minute. The fitted parameters are printed beside the truth. No peer: open_cp's SEPP is not packaged
for current Python; the truth of the simulation is the reference.

Run:  nice .venv/bin/python bench/analytics_forecast.py
"""

from __future__ import annotations

import os
import time

import numpy as np

from precinct.analytics.forecast import Train, fit_sepp, prospective_forecast
from precinct.analytics.grid import Grid

THETA, MEAN_DELAY, SIGMA = 0.3, 5.0, 80.0


def simulate(days: float = 365.0, rate: float = 220.0, size: float = 40_000.0, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n0 = rng.poisson(rate * days)
    hot = rng.uniform(2000, size - 2000, (30, 2))
    xy = rng.uniform(0, size, (n0, 2))
    h = rng.random(n0) < 0.5
    xy[h] = hot[rng.integers(0, 30, int(h.sum()))] + rng.normal(0, 500, (int(h.sum()), 2))
    t = rng.uniform(0, days, n0)
    out = [(xy[:, 0], xy[:, 1], t)]
    px, py, pt = xy[:, 0], xy[:, 1], t
    while pt.size:
        idx = np.repeat(np.arange(pt.size), rng.poisson(THETA, pt.size))
        cx, cy = px[idx] + rng.normal(0, SIGMA, idx.size), py[idx] + rng.normal(0, SIGMA, idx.size)
        ct = pt[idx] + rng.exponential(MEAN_DELAY, idx.size)
        keep = ct < days
        px, py, pt = cx[keep], cy[keep], ct[keep]
        out.append((px, py, pt))
    return (np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out]),
            np.concatenate([o[2] for o in out]))


def main() -> None:
    x, y, t = simulate()
    grid = Grid.covering(x, y, cell_m=250, crs="EPSG:32650")
    print(f"{t.size:,} events, {grid.n:,} cells, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    fit = fit_sepp(grid, Train(x, y, t), t_end=365.0)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit.forecast(grid, Train(x, y, t), 365.0, 7.0)
    prospective_forecast(grid, Train(x, y, t), 365.0, 7.0)
    t_fc = time.perf_counter() - t0
    print(f"SEPP EM fit        : {t_fit:6.1f} s, {fit.iterations} iterations (target <= 60 s)")
    print(f"forecast maps      : {t_fc:6.2f} s (SEPP + prospective, next 7 days)")
    print(f"theta {fit.theta:.3f} (truth {THETA}), mean delay {1 / fit.omega:.2f} d (truth {MEAN_DELAY}), "
          f"sigma {fit.sigma:.1f} m (truth {SIGMA}); load at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
