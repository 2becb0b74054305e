"""p-median at full strength: known answers from brute force, a plain assignment MILP and, when the
data is on disk, the published optima of OR-Library's pmed instances. No timing assertions."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from precinct.errors import BadInput, SolverTimeout, Unreachable
from precinct.patrol import solvers
from precinct.patrol.capacitated import capacitated_p_median
from precinct.patrol.demand import read_orlib_pmed
from precinct.patrol.milp import solve_milp
from precinct.patrol.pmedian import rows_from_dense, solve_rows

# published optima (Beasley 1985, OR-Library pmedopt)
ORLIB_OPT = [5819, 4093, 4250, 3034, 1355, 7824, 5631, 4445, 2734, 1255, 7696, 6634, 4374, 2968, 1729, 8162, 6999,
             4809, 2845, 1789, 9138, 8579, 4619, 2961, 1828, 9917, 8307, 4498, 3033, 1989, 10086, 9297, 4700, 3013,
             10400, 9934, 5057, 11060, 9423, 5128]


COMMITTED = Path(__file__).resolve().parents[1] / "data" / "orlib"  # pmed1-12 and 16 (see its README)


def orlib_dir() -> Path | None:
    """All 40 OR-Library files: ``$PRECINCT_ORLIB_DIR``, else ``shared/data/orlib-pmed`` beside the checkout."""
    env = os.environ.get("PRECINCT_ORLIB_DIR")
    cands = [Path(env)] if env else []
    cands.append(Path(__file__).resolve().parents[3] / "shared" / "data" / "orlib-pmed")
    return next((c for c in cands if (c / "pmed40.txt").exists()), None)


def instance(seed: int, n: int = 30, m: int = 10, *, integer: bool = False, ties: bool = False,
             ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, 10, (n, 2))
    cand = rng.uniform(0, 10, (m, 2))
    d = np.abs(dem[:, None, :] - cand[None, :, :]).sum(-1) * 60
    if ties:
        d = np.round(d / 120) * 120
    elif integer:
        d = np.round(d)
    w = rng.integers(0, 5, n).astype(float)  # some zero weights
    return d, w


def brute(d: np.ndarray, p: int, w: np.ndarray, fixed: tuple[int, ...] = (),
          cover: list[tuple[np.ndarray, int]] | None = None) -> float:
    best = np.inf
    free = [j for j in range(d.shape[1]) if j not in fixed]
    for combo in itertools.combinations(free, p):
        cols = list(fixed) + list(combo)
        if cover and any(len(set(c.tolist()) & set(cols)) < k for c, k in cover):
            continue
        near = d[:, cols].min(axis=1)
        if not np.isfinite(near).all():
            continue
        best = min(best, float(w @ near))
    return best


def assignment_milp(d: np.ndarray, p: int, w: np.ndarray) -> float:
    """The textbook assignment formulation (ReVelle & Swain 1970) on HiGHS through milp.py."""
    n, m = d.shape
    r, c = np.nonzero(np.isfinite(d))
    k = r.size
    xi = m + np.arange(k)
    rows = np.concatenate([r, n + np.arange(k), n + np.arange(k), np.full(m, n + k)])
    cols = np.concatenate([xi, xi, c, np.arange(m)])
    vals = np.concatenate([np.ones(k), np.ones(k), -np.ones(k), np.ones(m)])
    a = sp.csr_matrix((vals, (rows, cols)), shape=(n + k + 1, m + k))
    lo = np.concatenate([np.ones(n), np.full(k, -np.inf), [p]])
    hi = np.concatenate([np.ones(n), np.zeros(k), [p]])
    res = solve_milp(np.concatenate([np.zeros(m), w[r] * d[r, c]]), a, lo, hi,
                     integrality=np.concatenate([np.ones(m, dtype=np.int32), np.zeros(k, dtype=np.int32)]))
    assert res.status == "optimal" and res.x is not None
    opened = np.flatnonzero(res.x[:m] > 0.5)
    return float(w @ d[:, opened].min(axis=1))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_matches_brute_force_and_assignment_milp(seed: int, p: int) -> None:
    d, w = instance(seed, integer=seed % 3 == 0, ties=seed % 3 == 1)
    sol = solvers.p_median(d, p, w)
    assert sol.optimal and sol.stats["status"] == "optimal"
    assert len(sol.posts) == p
    assert sol.value == pytest.approx(brute(d, p, w), rel=1e-9, abs=1e-6)
    assert sol.value == pytest.approx(assignment_milp(d, p, w), rel=1e-9, abs=1e-6)
    assert sol.value == pytest.approx(float(w @ sol.response))
    assert np.allclose(sol.response, d[np.arange(d.shape[0]), sol.posts[sol.assignment]])


@pytest.mark.parametrize("seed", range(4))
def test_branching_instances_against_assignment_milp(seed: int) -> None:
    """Larger instances whose LP bound is not tight, so the branch-and-Benders-cut must branch."""
    d, w = instance(50 + seed, n=120, m=40, integer=True)
    for p in (3, 6):
        sol = solvers.p_median(d, p, w)
        assert sol.optimal
        assert sol.value == pytest.approx(assignment_milp(d, p, w), abs=1e-6)


def test_search_branches_and_proves() -> None:
    """A seeded instance on which the root LP bound is below the optimum: the tree closes the gap."""
    for seed in range(205, 215):
        d, w = instance(seed, n=120, m=40, integer=True)
        sol = solvers.p_median(d, 5, w)
        if sol.stats.get("nodes", 0) > 1:
            assert sol.stats["lp_bound"] < sol.value
            assert sol.optimal and sol.value == pytest.approx(assignment_milp(d, 5, w))
            return
    pytest.skip("no seed needed branching")


@pytest.mark.parametrize("seed", range(4))
def test_unreachable_pairs_and_sparse_input(seed: int) -> None:
    d, w = instance(seed, n=25, m=9)
    rng = np.random.default_rng(seed)
    d[rng.random(d.shape) < 0.35] = np.inf
    d[np.arange(25), rng.integers(0, 9, 25)] = rng.uniform(0, 600, 25)  # every row reaches something
    for p in (2, 3):
        ref = brute(d, p, w)
        if not np.isfinite(ref):
            with pytest.raises(Unreachable):
                solvers.p_median(d, p, w)
            continue
        dense = solvers.p_median(d, p, w)
        fin = np.isfinite(d)
        r, c = np.nonzero(fin)
        sparse = solvers.p_median(sp.csr_matrix((d[r, c], (r, c)), shape=d.shape), p, w)
        assert dense.value == pytest.approx(ref) and sparse.value == pytest.approx(ref)
        assert np.isfinite(sparse.response).all()


def test_sparse_keeps_explicit_zero_costs() -> None:
    d = np.array([[0.0, 5.0], [4.0, 0.0], [3.0, 1.0]])
    a = sp.csr_matrix((np.array([0.0, 5.0, 4.0, 0.0, 3.0, 1.0]), (np.repeat([0, 1, 2], 2), np.tile([0, 1], 3))),
                      shape=(3, 2))
    assert solvers.p_median(a, 1).value == pytest.approx(brute(d, 1, np.ones(3)))


@pytest.mark.parametrize("seed", range(5))
def test_fixed_posts(seed: int) -> None:
    d, w = instance(seed, n=30, m=11)
    fixed = (1, 7)
    sol = solvers.p_median(d, 2, w, fixed=np.array(fixed))
    assert set(fixed) <= set(sol.posts.tolist()) and len(sol.posts) == 4
    assert sol.optimal and sol.value == pytest.approx(brute(d, 2, w, fixed))


@pytest.mark.parametrize("seed", range(5))
def test_backup_coverage(seed: int) -> None:
    """Some demand points must have two posts within a service time (red risk cells)."""
    d, w = instance(seed, n=30, m=10)
    t = float(np.quantile(d, 0.35))
    red = [0, 3, 5]
    cover = [(np.flatnonzero(d[i] <= t), 2) for i in red]
    cover = [(c, k) for c, k in cover if c.size >= 2]
    for p in (3, 4):
        ref = brute(d, p, w, cover=cover)
        if not np.isfinite(ref):
            with pytest.raises(Unreachable):
                solvers.p_median(d, p, w, cover=cover)
            continue
        sol = solvers.p_median(d, p, w, cover=cover)
        assert sol.value == pytest.approx(ref)
        for c, k in cover:
            assert len(set(c.tolist()) & set(sol.posts.tolist())) >= k


def test_max_cost_cap_matches_brute_force() -> None:
    d, w = instance(5, n=30, m=10)
    cap = float(solvers.p_center(d, 3).value)
    sol = solvers.p_median(d, 3, w, max_cost=cap)
    capped = np.where(d <= cap, d, np.inf)
    assert sol.value == pytest.approx(brute(capped, 3, w))
    assert sol.response.max() <= cap + 1e-9


def test_time_limit_with_a_solution_reports_gap() -> None:
    d, w = instance(9, n=150, m=40, integer=True)
    sol = solvers.p_median(d, 5, w, time_limit=0.0)
    assert len(sol.posts) == 5 and np.isfinite(sol.value)
    assert sol.bound <= sol.value + 1e-9
    assert sol.bound >= float(w @ d.min(axis=1)) - 1e-9  # at least the trivial bound
    if not sol.optimal:
        assert sol.stats["status"] == "time_limit" and sol.gap > 0


def test_time_limit_without_a_solution_is_a_timeout() -> None:
    """Greedy cannot cover these rows with two posts (it takes the big set first), and with no time
    left there is no solution: a distinct error, not 'unreachable'."""
    big, a_, b_ = [0, 1, 2, 3], [0, 1, 4], [2, 3, 5]
    d = np.full((6, 3), np.inf)
    d[big, 0] = 1.0
    d[a_, 1] = 2.0
    d[b_, 2] = 2.0
    with pytest.raises(SolverTimeout, match="no solution within the time limit; best bound"):
        solvers.p_median(d, 2, time_limit=0.0)
    sol = solvers.p_median(d, 2)
    assert sol.optimal and sorted(sol.posts.tolist()) == [1, 2]


def test_infeasible_is_unreachable() -> None:
    d = np.full((3, 3), np.inf)
    np.fill_diagonal(d, 1.0)
    with pytest.raises(Unreachable):
        solvers.p_median(d, 2)
    with pytest.raises(BadInput):
        solvers.p_median(np.ones((3, 3)), 3, fixed=np.array([0]))


def test_rel_gap_is_reported_honestly() -> None:
    d, w = instance(3, n=120, m=40, integer=True)
    sol = solvers.p_median(d, 5, w, mip_rel_gap=0.05)
    assert sol.bound <= sol.value and sol.gap <= 0.05 + 1e-9
    assert sol.value >= solvers.p_median(d, 5, w).value - 1e-9


def capacitated_brute(d: np.ndarray, p: int, w: np.ndarray, q: float) -> float:
    n, m = d.shape
    best = np.inf
    for combo in itertools.combinations(range(m), p):
        cols = list(combo)
        sub = d[:, cols]
        # transportation LP: x_ij >= 0, sum_j x_ij = 1, sum_i w_i x_ij <= q
        c = (w[:, None] * sub).ravel()
        a_eq = np.kron(np.eye(n), np.ones((1, p)))
        a_ub = np.kron(w[None, :], np.eye(p)).reshape(p, n * p)
        a_ub = np.zeros((p, n * p))
        for k in range(p):
            a_ub[k, k::p] = w
        res = linprog(c, A_ub=a_ub, b_ub=np.full(p, q), A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1))
        if res.status == 0:
            best = min(best, float(res.fun))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_matches_enumeration_of_transport_lps(seed: int) -> None:
    d, w = instance(seed, n=14, m=7, integer=True)
    w = w + 1.0
    q = float(np.ceil(w.sum() / 2.5))
    sol = capacitated_p_median(d, 3, q, w)
    assert sol.optimal
    assert sol.value == pytest.approx(capacitated_brute(d, 3, w, q), rel=1e-7)
    assert sol.stats["max_load_share"] <= 1 + 1e-6
    uncapped = solvers.p_median(d, 3, w)
    assert sol.value >= uncapped.value - 1e-6


def test_capacity_below_demand_is_refused() -> None:
    d, w = instance(1, n=10, m=5)
    with pytest.raises(Unreachable):
        capacitated_p_median(d, 2, 1.0, w + 1)


def test_read_orlib_last_duplicate_edge_wins(tmp_path: Path) -> None:
    f = tmp_path / "tiny.txt"
    f.write_text(" 3 3 1\n 1 2 5\n 2 3 4\n 1 2 2\n", encoding="ascii")
    d, p = read_orlib_pmed(f)
    assert p == 1 and d[0, 1] == 2 and d[0, 2] == 6 and d[2, 0] == 6


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16])
def test_orlib_committed_instances_reach_the_published_optimum(k: int) -> None:
    """The committed OR-Library files (tests/data/orlib): proven at Beasley's published optimum."""
    d, p = read_orlib_pmed(COMMITTED / f"pmed{k}.txt")
    assert d.shape == (100 * ((k - 1) // 5 + 1),) * 2
    sol = solvers.p_median(d, p)
    assert sol.optimal and sol.value == ORLIB_OPT[k - 1]
    assert len(sol.posts) == p and sol.value == d[:, sol.posts].min(axis=1).sum()


@pytest.mark.parametrize("k", [22, 31, 36])
def test_orlib_hard_instances_when_on_disk(k: int) -> None:
    """Larger instances (n = 500-800, p = 5-10, the ones that branch), when all 40 files are on disk."""
    root = orlib_dir()
    if root is None:
        pytest.skip("all 40 OR-Library pmed files not on disk (set PRECINCT_ORLIB_DIR or shared/data/orlib-pmed)")
    d, p = read_orlib_pmed(root / f"pmed{k}.txt")
    rows, _ = rows_from_dense(d, np.ones(d.shape[0]))
    out = solve_rows(rows, p)
    assert out.status == "optimal" and out.value == ORLIB_OPT[k - 1]


def test_root_fixing_without_rebuilding_the_master(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large instances keep the solved master LP after root fixing (only separation shrinks)."""
    from precinct.patrol import pmedian

    monkeypatch.setattr(pmedian, "REBUILD_ENTRIES", 0)
    for seed in (208, 209):
        d, w = instance(seed, n=120, m=40, integer=True)
        sol = solvers.p_median(d, 5, w)
        assert sol.optimal and sol.value == pytest.approx(assignment_milp(d, 5, w))


def test_pseudocosts_average_gain_per_unit_change() -> None:
    from precinct.patrol.branching import Pseudocosts

    pc = Pseudocosts(3)
    pc.update(0, 0, 0.5, 2.0)  # down by 0.5 gained 2: 4 per unit
    pc.update(0, 0, 0.25, 2.0)  # 8 per unit
    pc.update(1, 1, 0.5, 1.0)  # up: 2 per unit
    down, up = pc.estimate(np.array([0, 2]), np.array([0.5, 0.0, 0.2]))
    assert down.tolist() == pytest.approx([6.0 * 0.5, 6.0 * 0.2])  # post 2 unseen: the mean over posts
    assert up.tolist() == pytest.approx([2.0 * 0.5, 2.0 * 0.8])
