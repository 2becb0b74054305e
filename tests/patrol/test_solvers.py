"""Exact answers of the patrol solvers, checked against an independent MILP and spopt."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from precinct.errors import BadInput, Unreachable
from precinct.patrol import solvers

TOL = 1e-6


def instance(seed: int, n: int = 24, m: int = 9, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, 10, (n, 2))
    cand = rng.uniform(0, 10, (m, 2))
    d = np.abs(dem[:, None, :] - cand[None, :, :]).sum(-1) * 60  # Manhattan minutes -> seconds
    if ties:
        d = np.round(d / 120) * 120
    w = rng.integers(1, 5, n).astype(float)
    return d, w


def scipy_assignment_milp(d: np.ndarray, p: int, w: np.ndarray, kind: str, t: float = 0.0) -> float:
    """Textbook formulations (ReVelle & Swain; Hakimi; Church & ReVelle) on scipy's milp."""
    n, m = d.shape
    if kind == "mclp":
        a = (d <= t).astype(float)
        nv = m + n  # y, z
        c = np.concatenate([np.zeros(m), -w])
        cons = [LinearConstraint(np.hstack([-a, np.eye(n)]), -np.inf, 0),
                LinearConstraint(np.concatenate([np.ones(m), np.zeros(n)])[None, :], p, p)]
        res = milp(c, constraints=cons, integrality=np.concatenate([np.ones(m), np.zeros(n)]),
                   bounds=Bounds(0, 1))
        return -float(res.fun)
    # variables: y (m), x (n*m), [r]
    nx = n * m
    extra = 1 if kind == "pcenter" else 0
    nv = m + nx + extra
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def add(row: np.ndarray, low: float, high: float) -> None:
        rows.append(row)
        lo.append(low)
        hi.append(high)

    for i in range(n):  # each demand assigned once
        r = np.zeros(nv)
        r[m + i * m: m + (i + 1) * m] = 1
        add(r, 1, 1)
    for i in range(n):  # x_ij <= y_j
        for j in range(m):
            r = np.zeros(nv)
            r[m + i * m + j] = 1
            r[j] = -1
            add(r, -np.inf, 0)
    r = np.zeros(nv)
    r[:m] = 1
    add(r, p, p)
    if kind == "pcenter":
        for i in range(n):  # sum_j d_ij x_ij <= R
            r = np.zeros(nv)
            r[m + i * m: m + (i + 1) * m] = d[i]
            r[-1] = -1
            add(r, -np.inf, 0)
        c = np.zeros(nv)
        c[-1] = 1
    else:
        c = np.concatenate([np.zeros(m), (w[:, None] * d).ravel()])
    ub = np.ones(nv)
    if extra:
        ub[-1] = np.inf
    integ = np.concatenate([np.ones(m), np.zeros(nx + extra)])
    res = milp(c, constraints=LinearConstraint(np.array(rows), lo, hi), integrality=integ,
               bounds=Bounds(0, ub), options={"mip_rel_gap": 0})
    # evaluate the facilities it opened exactly (its continuous radius carries solver tolerance)
    opened = np.flatnonzero(res.x[:m] > 0.5)
    near = d[:, opened].min(axis=1)
    exact = float(near.max()) if kind == "pcenter" else float(w @ near)
    assert abs(exact - float(res.fun)) <= 1e-5 * max(1.0, exact)
    return exact


def brute(d: np.ndarray, p: int, w: np.ndarray, kind: str, t: float = 0.0) -> float:
    best = None
    for combo in itertools.combinations(range(d.shape[1]), p):
        near = d[:, combo].min(axis=1)
        v = {"pcenter": near.max(), "pmedian": float(w @ near), "mclp": -float(w[near <= t].sum())}[kind]
        best = v if best is None else min(best, v)
    assert best is not None
    return abs(best) if kind == "mclp" else best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_pcenter_matches_scipy_milp_and_brute_force(seed: int, p: int) -> None:
    d, w = instance(seed, ties=seed % 2 == 1)
    sol = solvers.p_center(d, p)
    assert sol.optimal and sol.gap == 0
    assert sol.value == pytest.approx(scipy_assignment_milp(d, p, w, "pcenter"), abs=TOL)
    assert sol.value == pytest.approx(brute(d, p, w, "pcenter"), abs=TOL)
    assert len(sol.posts) == p
    assert sol.response.max() == pytest.approx(sol.value)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 4])
def test_pmedian_matches_scipy_milp(seed: int, p: int) -> None:
    d, w = instance(seed, ties=seed % 2 == 1)
    sol = solvers.p_median(d, p, w)
    assert sol.optimal
    assert sol.value == pytest.approx(scipy_assignment_milp(d, p, w, "pmedian"), abs=TOL)
    assert sol.value == pytest.approx(brute(d, p, w, "pmedian"), abs=TOL)
    assert sol.value == pytest.approx(float(w @ sol.response))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_mclp_matches_scipy_milp(seed: int, p: int) -> None:
    d, w = instance(seed, ties=seed % 2 == 1)
    t = float(np.quantile(d, 0.2))
    sol = solvers.max_covering(d, p, t, w)
    assert sol.optimal
    assert sol.value == pytest.approx(scipy_assignment_milp(d, p, w, "mclp", t), abs=TOL)
    assert sol.value == pytest.approx(brute(d, p, w, "mclp", t), abs=TOL)


def test_pcenter_larger_instance_against_scipy_milp() -> None:
    """A 70 x 18 instance: row generation must still agree with the full formulation."""
    d, w = instance(42, n=70, m=18)
    for p in (3, 6):
        sol = solvers.p_center(d, p)
        assert sol.optimal
        assert sol.value == pytest.approx(scipy_assignment_milp(d, p, w, "pcenter"), abs=TOL)


spopt = pytest.importorskip("spopt.locate")
pulp = pytest.importorskip("pulp")


@pytest.mark.parametrize("seed", range(3))
def test_against_spopt(seed: int) -> None:
    d, w = instance(100 + seed, n=40, m=12)
    d = np.round(d)  # CBC reads the model from a file with rounded coefficients
    p = 3
    solver = pulp.PULP_CBC_CMD(msg=False)
    pc = spopt.PCenter.from_cost_matrix(d, p_facilities=p).solve(solver)
    assert solvers.p_center(d, p).value == pytest.approx(pc.problem.objective.value(), abs=TOL)
    pm = spopt.PMedian.from_cost_matrix(d, w, p_facilities=p).solve(solver)
    assert solvers.p_median(d, p, w).value == pytest.approx(pm.problem.objective.value(), abs=TOL)
    t = float(np.quantile(d, 0.2))
    mc = spopt.MCLP.from_cost_matrix(d, w, service_radius=t, p_facilities=p).solve(solver)
    assert solvers.max_covering(d, p, t, w).value == pytest.approx(mc.problem.objective.value(), abs=TOL)


def test_tiebreak_keeps_radius_and_lowers_mean() -> None:
    d, w = instance(7, n=60, m=15, ties=True)
    plain = solvers.solve(d, 3, "pcenter", weights=w)
    refined = solvers.solve(d, 3, "pcenter", weights=w, tiebreak=True)
    assert refined.value == pytest.approx(plain.value)
    assert refined.response.max() == pytest.approx(plain.value)
    assert float(w @ refined.response) <= float(w @ plain.response) + TOL


def test_unreachable_and_bad_input() -> None:
    d = np.array([[1.0, np.inf], [np.inf, np.inf]])
    with pytest.raises(Unreachable):
        solvers.p_center(d, 1)
    with pytest.raises(BadInput):
        solvers.p_center(np.ones((2, 2)), 3)
    with pytest.raises(BadInput):
        solvers.p_median(-np.ones((2, 2)), 1)
    with pytest.raises(BadInput):
        solvers.solve(np.ones((2, 2)), 1, "mclp")


def test_unreachable_pairs_are_respected() -> None:
    d, w = instance(3)
    d[0, :5] = np.inf
    sol = solvers.p_center(d, 2)
    assert np.isfinite(sol.value)
    assert sol.value == pytest.approx(brute(d, 2, w, "pcenter"), abs=TOL)


def test_response_summary_weighted() -> None:
    s = solvers.response_summary(np.array([100.0, 200.0, 1000.0]), np.array([1.0, 8.0, 1.0]))
    assert s["max_s"] == 1000 and s["p90_s"] == 200 and s["mean_s"] == pytest.approx(270.0)
    assert s["within_5min"] == pytest.approx(0.9)


@pytest.mark.parametrize("p", [2, 3, 4])
def test_pcenter_row_generation_needs_several_rounds(p: int) -> None:
    """Iterative relaxation: the working subset starts small and must grow over several rounds of
    uncovered rows; the certified answer still equals the full MILP and brute force."""
    d, w = instance(11, n=120, m=15)
    sol = solvers.p_center(d, p, batch=2)
    assert sol.stats["rounds"] >= 2
    assert sol.stats["rows_used"] < d.shape[0]  # the relaxation never needed every row
    assert sol.optimal and sol.bound == sol.value
    assert sol.value == pytest.approx(scipy_assignment_milp(d, p, w, "pcenter"), abs=TOL)
    assert sol.value == pytest.approx(brute(d, p, w, "pcenter"), abs=TOL)


@pytest.mark.parametrize("seed", range(8))
def test_decide_cover_matches_brute_force(seed: int) -> None:
    """Each set-cover decision (greedy / LP / local search / MILP) answers exactly; the cheap mode
    may only say 'undecided', never a wrong yes or no."""
    from precinct.patrol.setcover import Undecided, decide_cover

    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 100, (14, 9))
    for p in (1, 2, 3):
        for radius in np.quantile(d, [0.2, 0.35, 0.5]):
            exists = any((d[:, list(c)] <= radius).any(axis=1).all()
                         for c in itertools.combinations(range(9), p))
            for exact in (True, False):
                stats = {"greedy_hits": 0, "lp_proofs": 0, "local_hits": 0, "milps": 0}
                res = decide_cover(d, float(radius), p, stats, None, exact=exact)
                if isinstance(res, Undecided):
                    assert not exact
                    continue
                if res is None:
                    assert not exists
                else:
                    assert exists and len(res) <= p
                    assert (d[:, res] <= radius).any(axis=1).all()
