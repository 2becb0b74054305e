"""p-median known answers from an independent model: the full assignment formulation solved by
``scipy.optimize.milp`` (its own HiGHS build, no code of Precinct's), on random small instances with
fixed posts, backup coverage, cutoff (sparse) matrices and workload capacities."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from precinct.patrol import solvers
from precinct.patrol.capacitated import capacitated_p_median


def instance(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, 10, (n, 2))
    cand = rng.uniform(0, 10, (m, 2))
    d = np.round(np.hypot(*(dem[:, None, :] - cand[None, :, :]).transpose(2, 0, 1)) * 60)
    return d, rng.integers(1, 6, n).astype(float)


def reference(d: np.ndarray, p: int, w: np.ndarray, *, fixed: tuple[int, ...] = (),
              cover: list[tuple[np.ndarray, int]] | None = None, capacity: float | None = None) -> float:
    """ReVelle-Swain assignment model: y_j open, x_ij share of i served by j (finite pairs only).

    min sum w_i d_ij x_ij  s.t. sum_j x_ij = 1, x_ij <= y_j, sum_j y_j = p + |fixed|, y_fixed = 1,
    sum_{j in C} y_j >= k per cover row, and with a capacity sum_i w_i x_ij <= Q y_j (x continuous).
    Returns ``inf`` when infeasible.
    """
    n, m = d.shape
    r, c = np.nonzero(np.isfinite(d))
    k = r.size
    nv = m + k
    cons = []
    eye = sp.identity(k, format="csr")
    ymap = sp.csr_matrix((np.ones(k), (np.arange(k), c)), shape=(k, m))
    cons.append(LinearConstraint(sp.hstack([sp.csr_matrix((n, m)), sp.csr_matrix((np.ones(k), (r, np.arange(k))),
                                                                                  shape=(n, k))]), 1, 1))
    cons.append(LinearConstraint(sp.hstack([-ymap, eye]), -np.inf, 0))
    cons.append(LinearConstraint(np.concatenate([np.ones(m), np.zeros(k)])[None, :], p + len(fixed), p + len(fixed)))
    for cols, need in cover or []:
        row = np.zeros(nv)
        row[cols] = 1
        cons.append(LinearConstraint(row[None, :], need, np.inf))
    if capacity is not None:
        load = sp.csr_matrix((w[r], (c, np.arange(k))), shape=(m, k))
        cons.append(LinearConstraint(sp.hstack([-capacity * sp.identity(m), load]), -np.inf, 0))
    lo = np.zeros(nv)
    lo[list(fixed)] = 1
    integrality = np.concatenate([np.ones(m), np.zeros(k)])
    cost = np.concatenate([np.zeros(m), w[r] * d[r, c]])
    res = milp(cost, constraints=cons, integrality=integrality, bounds=Bounds(lo, np.ones(nv)),
               options={"mip_rel_gap": 0.0})
    if res.status == 2:  # infeasible
        return float("inf")
    assert res.status == 0, res.message
    return float(res.fun)


@pytest.mark.parametrize("seed", range(6))
def test_plain_and_fixed_posts_match_the_full_milp(seed: int) -> None:
    d, w = instance(seed, 40, 12)
    for p in (2, 4):
        sol = solvers.p_median(d, p, w)
        assert sol.optimal and sol.value == pytest.approx(reference(d, p, w), abs=1e-6)
    fixed = (seed % 12, (seed * 5 + 3) % 12)
    sol = solvers.p_median(d, 3, w, fixed=np.array(fixed))
    assert set(fixed) <= set(sol.posts.tolist()) and len(sol.posts) == 5
    assert sol.optimal and sol.value == pytest.approx(reference(d, 3, w, fixed=fixed), abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_backup_coverage_and_cutoff_match_the_full_milp(seed: int) -> None:
    d, w = instance(100 + seed, 35, 11)
    t = float(np.quantile(d, 0.3))
    cover = [(np.flatnonzero(d[i] <= t), 2) for i in (0, 4, 9)]
    cover = [(cols, k) for cols, k in cover if cols.size >= 2]
    ref = reference(d, 3, w, cover=cover, fixed=(1,))
    sol = solvers.p_median(d, 3, w, cover=cover, fixed=np.array([1]))
    assert sol.optimal and sol.value == pytest.approx(ref, abs=1e-6)
    # a cutoff matrix: pairs beyond the 60th percentile are missing
    cut = np.where(d <= np.quantile(d, 0.6), d, np.inf)
    ref = reference(cut, 4, w)
    r, c = np.nonzero(np.isfinite(cut))
    if not np.isfinite(ref):
        return
    sol = solvers.p_median(sp.csr_matrix((cut[r, c], (r, c)), shape=cut.shape), 4, w)
    assert sol.optimal and sol.value == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_capacities_match_the_full_milp(seed: int) -> None:
    d, w = instance(200 + seed, 18, 8)
    q = float(np.ceil(w.sum() / 2.6))
    fixed = (seed % 8,)
    sol = capacitated_p_median(d, 2, q, w, fixed=np.array(fixed))
    ref = reference(d, 2, w, capacity=q, fixed=fixed)
    assert sol.optimal and sol.value == pytest.approx(ref, rel=1e-7)
    assert sol.value >= reference(d, 2, w, fixed=fixed) - 1e-6  # capacities never help
