"""Short-term, place-based forecasts: which grid cells will see the most events in the next days.

Methods (each returns an expected-events score per cell for the window ``[t0, t0 + horizon)``):

``kde``
    The baseline: a quartic kernel density of every training event (bandwidth 2 cells by default).
``retrospective``
    Retrospective hotspots: each cell's own count over the training window (last year's map).
``prospective``
    Prospective hotspotting (Bowers, Johnson & Pease 2004): events of the last 8 weeks, each
    weighted ``1 / (1 + weeks ago)``, spread to cells within 400 m weighted ``1 / (1 + cells away)``.
``sepp``
    A space-time self-exciting point process (ETAS-like, as in Mohler et al. 2011, 2014), fitted
    by expectation-maximisation: intensity ``mu(x, y) + sum_j theta * omega * exp(-omega (t - t_j))
    * N((x, y); (x_j, y_j), sigma^2)`` with a kernel-smoothed grid background ``mu`` and
    exponential-in-time, Gaussian-in-space triggering (near-repeat victimisation).

Forecasts are about places and times, never people: inputs are event points, outputs are cells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from precinct.analytics.grid import Grid, kde_cells, kernel_stencil, smooth
from precinct.errors import BadInput

FloatArray = npt.NDArray[np.float64]
METHODS = ("kde", "retrospective", "prospective", "sepp")
MAX_TRIGGER_PAIRS = 40_000_000


@dataclass(frozen=True)
class Train:
    """Training events: positions in metres, times in days (all before the forecast origin)."""

    x: FloatArray
    y: FloatArray
    t: FloatArray


def kde_forecast(grid: Grid, ev: Train, t0: float, horizon: float, *, bandwidth_m: float | None = None) -> FloatArray:
    """Quartic KDE of all training events, scaled to the horizon's expected count."""
    days = max(float(t0 - ev.t.min()), 1.0) if ev.t.size else 1.0
    bw = bandwidth_m or 2.0 * grid.cell_m
    return kde_cells(grid, ev.x, ev.y, bandwidth_m=bw) * (horizon / days)


def retrospective_forecast(grid: Grid, ev: Train, t0: float, horizon: float) -> FloatArray:
    """Each cell's training count, scaled to the horizon."""
    days = max(float(t0 - ev.t.min()), 1.0) if ev.t.size else 1.0
    return grid.counts(ev.x, ev.y).astype(np.float64) * (horizon / days)


def prospective_forecast(grid: Grid, ev: Train, t0: float, horizon: float, *, weeks: int = 8,
                         bandwidth_m: float = 400.0) -> FloatArray:
    """Bowers-Johnson-Pease prospective hotspots (relative scores, not expected counts)."""
    age_weeks = np.floor((t0 - ev.t) / 7.0)
    recent = (age_weeks >= 0) & (age_weeks < weeks)
    c = grid.locate(ev.x[recent], ev.y[recent])
    ok = c >= 0
    w = 1.0 / (1.0 + age_weeks[recent][ok])
    img = np.bincount(c[ok], weights=w, minlength=grid.n).astype(np.float64).reshape(grid.nrows, grid.ncols)
    k = max(0, int(np.floor(bandwidth_m / grid.cell_m)))
    off = np.arange(-k, k + 1)
    dist = np.sqrt(off[:, None] ** 2 + off[None, :] ** 2)
    stencil = np.where(dist <= k + 1e-9, 1.0 / (1.0 + dist), 0.0)
    return smooth(img, stencil).ravel()


@dataclass(frozen=True)
class SeppFit:
    """A fitted self-exciting model: background per cell (events/day) and triggering parameters."""

    background: FloatArray
    theta: float
    omega: float
    sigma: float
    iterations: int
    t_end: float

    def forecast(self, grid: Grid, ev: Train, t0: float, horizon: float) -> FloatArray:
        """Expected events per cell in ``[t0, t0 + horizon)``: background plus the triggered part."""
        age = t0 - ev.t
        w = self.theta * np.exp(-self.omega * age) * (1.0 - np.exp(-self.omega * horizon))
        keep = (age >= 0) & (w > 1e-9)
        c = grid.locate(ev.x[keep], ev.y[keep])
        ok = c >= 0
        img = np.bincount(c[ok], weights=w[keep][ok], minlength=grid.n).astype(np.float64)
        trig = smooth(img.reshape(grid.nrows, grid.ncols),
                      kernel_stencil(grid.cell_m, self.sigma, kernel="gaussian")).ravel()
        return np.asarray(self.background * horizon + trig)


def fit_sepp(grid: Grid, ev: Train, *, t_end: float, max_days: float = 90.0, max_distance_m: float = 1000.0,
             iterations: int = 60, tol: float = 1e-4, background_bandwidth_m: float | None = None,
             progress: Callable[[int, int], None] | None = None) -> SeppFit:
    """Fit the self-exciting model to training events by EM (stochastic declustering).

    Parameters
    ----------
    grid : Grid
        The grid of the background.
    ev : Train
        Training events (times in days, all before ``t_end``).
    t_end : float
        End of the training window (days).
    max_days, max_distance_m : float
        Triggering is considered only within these (the exponential and Gaussian tails beyond are
        negligible at the fitted scales; they bound the work).
    iterations, tol : int, float
        EM stops after ``iterations`` or when no parameter moves by more than ``tol`` (relative).
    background_bandwidth_m : float, optional
        Quartic smoothing of the background (default 2 cells).
    progress : callable, optional
        ``progress(iteration, iterations)``.

    Returns
    -------
    SeppFit
    """
    n = ev.t.size
    if n < 10:
        raise BadInput("the self-exciting model needs at least 10 training events")
    duration = max(float(t_end - ev.t.min()), 1.0)
    cells = grid.locate(ev.x, ev.y)
    if (cells < 0).any():
        raise BadInput("training events outside the grid")
    # candidate (parent j, child i) pairs: |dx|, |dy| <= D and |dt| <= T (a box in scaled space-time)
    scale = max_distance_m / max_days
    pts = np.column_stack([ev.x, ev.y, ev.t * scale])
    tree = cKDTree(pts)
    sample = np.random.default_rng(0).choice(n, size=min(n, 2000), replace=False)
    close = tree.count_neighbors(cKDTree(pts[sample]), max_distance_m, p=np.inf) - sample.size
    estimate = close * n / sample.size / 2
    if estimate > MAX_TRIGGER_PAIRS:
        raise BadInput(f"about {estimate:,.0f} close pairs, more than {MAX_TRIGGER_PAIRS:,}, for the self-exciting "
                       "model; use a smaller area or period")
    pairs = tree.query_pairs(max_distance_m, p=np.inf, output_type="ndarray")
    a, b = pairs[:, 0], pairs[:, 1]
    dt = ev.t[b] - ev.t[a]
    parent = np.where(dt >= 0, a, b)
    child = np.where(dt >= 0, b, a)
    dt = np.abs(dt)
    r2 = (ev.x[parent] - ev.x[child]) ** 2 + (ev.y[parent] - ev.y[child]) ** 2
    keep = (dt > 0) & (r2 <= max_distance_m**2)
    parent, child, dt, r2 = parent[keep], child[keep], dt[keep], r2[keep]
    cell_area = grid.cell_m**2
    bw = background_bandwidth_m or 2.0 * grid.cell_m
    stencil = kernel_stencil(grid.cell_m, bw)

    def background(weights: FloatArray) -> FloatArray:
        img = np.bincount(cells, weights=weights, minlength=grid.n).astype(np.float64)
        return smooth(img.reshape(grid.nrows, grid.ncols), stencil).ravel() / duration

    theta, omega, sigma = 0.1, 1.0 / 7.0, 100.0
    mu_cell = background(np.full(n, 1.0 - theta))
    it = 0
    for it in range(1, iterations + 1):
        if it % 5 == 3:  # drop pairs the fitted kernels make negligible (< e^-18 of the peak)
            near = (r2 <= (6.0 * sigma) ** 2) & (dt <= 18.0 / omega)
            parent, child, dt, r2 = parent[near], child[near], dt[near], r2[near]
        mu_i = mu_cell[cells] / cell_area  # events per day per m2
        g = (theta * omega / (2 * np.pi * sigma**2)) * np.exp(-omega * dt - r2 / (2 * sigma**2))
        lam = mu_i + np.bincount(child, weights=g, minlength=n)
        p_trig = g / lam[child]
        p_bg = mu_i / lam
        s = p_trig.sum()
        # M-step: the offspring count corrects for the part of each kernel after t_end
        new_theta = s / max(float((1.0 - np.exp(-omega * np.clip(t_end - ev.t, 0, None))).sum()), 1e-12)
        new_omega = s / max(float((p_trig * dt).sum()), 1e-12)
        new_sigma = float(np.sqrt((p_trig * r2).sum() / max(2.0 * s, 1e-12))) if s > 0 else sigma
        new_sigma = max(new_sigma, 1.0)
        mu_cell = background(p_bg)
        moved = max(abs(new_theta - theta) / max(theta, 1e-12), abs(new_omega - omega) / omega,
                    abs(new_sigma - sigma) / sigma)
        theta, omega, sigma = float(min(new_theta, 0.99)), float(new_omega), float(new_sigma)
        if progress is not None:
            progress(it, iterations)
        if moved < tol:
            break
    return SeppFit(mu_cell, theta, omega, sigma, it, float(t_end))


def forecast(method: str, grid: Grid, ev: Train, t0: float, horizon: float) -> FloatArray:
    """Scores per cell for ``[t0, t0 + horizon)`` from training events (all before ``t0``)."""
    if method == "kde":
        return kde_forecast(grid, ev, t0, horizon)
    if method == "retrospective":
        return retrospective_forecast(grid, ev, t0, horizon)
    if method == "prospective":
        return prospective_forecast(grid, ev, t0, horizon)
    if method == "sepp":
        return fit_sepp(grid, ev, t_end=t0).forecast(grid, ev, t0, horizon)
    raise BadInput(f"unknown method {method!r}; one of {', '.join(METHODS)}", detail={"field": "method"})


def top_cells(scores: FloatArray, candidates: npt.NDArray[np.int64], k: int) -> npt.NDArray[np.int64]:
    """The ``k`` candidate cells with the highest scores (ties: lower cell id first)."""
    s = scores[candidates]
    order = np.lexsort((candidates, -s))
    return candidates[order[:k]]
