"""Gi* against PySAL esda's G_Local(star=True) on the same counts and weights, and grid basics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import sparse

from precinct.analytics.gistar import gi_star
from precinct.analytics.grid import Grid, kde_cells, queen_weights
from precinct.errors import BadInput

NR, NC = 18, 22


def _counts(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = rng.poisson(0.7, NR * NC).astype(float)
    y[5 * NC + 4: 5 * NC + 9] += rng.poisson(5, 5)  # a planted hot strip
    return y


def _esda(y: np.ndarray, transform: str, permutations: int) -> object:
    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return G_Local(y, lat2W(NR, NC, rook=False), transform=transform, star=True,
                       permutations=permutations, seed=7, n_jobs=1)


def test_queen_weights_equal_libpysal_lattice() -> None:
    from libpysal.weights import lat2W

    w = lat2W(NR, NC, rook=False).sparse
    assert abs(queen_weights(NR, NC, self_weight=False) - w).max() == 0
    assert (queen_weights(NR, NC).diagonal() == 1).all()


@pytest.mark.parametrize("transform", ["B", "R"])
def test_z_scores_equal_esda(transform: str) -> None:
    y = _counts()
    ref = _esda(y, transform, 0)
    ours = gi_star(y, queen_weights(NR, NC), transform=transform, permutations=0)
    np.testing.assert_allclose(ours.z, ref.Zs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.g, ref.Gs, rtol=1e-12)
    np.testing.assert_allclose(ours.expected, ref.EGs, rtol=1e-12)


@pytest.mark.slow  # esda compiles its numba permutation kernels on first use (~30-50 s)
def test_pseudo_p_values_equal_esda_within_monte_carlo_error() -> None:
    """Both draw 9,999 conditional permutations (different streams): each cell's p_sim agrees to
    within 4.5 standard errors of the difference of two Monte Carlo estimates (396 cells)."""
    y = _counts()
    perms = 9999
    ref = _esda(y, "B", perms)
    ours = gi_star(y, queen_weights(NR, NC), permutations=perms, seed=11)
    assert ours.p_sim is not None
    p = np.clip(ref.p_sim, 1 / (perms + 1), 1)
    se = np.sqrt(2 * p * (1 - p) / perms) + 1 / (perms + 1)
    assert (np.abs(ours.p_sim - ref.p_sim) <= 4.5 * se).all()
    hot = ours.p_sim[5 * NC + 4: 5 * NC + 9]
    assert (hot <= 0.1).all() and hot.min() <= 0.01


def test_exact_ties_match_a_brute_force_reference() -> None:
    """ties='exact' counts every draw equal to the observed sum; checked by plain resampling."""
    y = _counts(3)
    perms = 4000
    ours = gi_star(y, queen_weights(NR, NC), permutations=perms, seed=5, ties="exact")
    w = queen_weights(NR, NC, self_weight=False).tocsr()
    rng = np.random.default_rng(9)
    for i in (0, 7, 5 * NC + 6, 100, NR * NC - 1):
        nb = w.indices[w.indptr[i]:w.indptr[i + 1]]
        others = np.delete(y, i)
        sims = np.array([others[rng.choice(others.size, nb.size, replace=False)].sum() for _ in range(perms)])
        larger = int((sims >= y[nb].sum()).sum())
        larger = min(larger, perms - larger)
        ref = (larger + 1) / (perms + 1)
        assert abs(ours.p_sim[i] - ref) <= 5 * np.sqrt(2 * ref * (1 - ref) / perms) + 2 / perms  # type: ignore[index]


def test_gi_star_refuses_what_it_cannot_do() -> None:
    with pytest.raises(BadInput, match="at least one event"):
        gi_star(np.zeros(4), queen_weights(2, 2))
    w = sparse.csr_matrix(np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]], dtype=float))
    with pytest.raises(BadInput, match="contiguity"):
        gi_star(np.array([1.0, 2, 3]), w)
    with pytest.raises(BadInput, match="values"):
        gi_star(np.ones(5), queen_weights(2, 2))


def test_grid_counts_and_kde_conserve_events() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(1000, 6000, 500), rng.uniform(2000, 4000, 500)
    g = Grid.covering(x, y, cell_m=250, crs="EPSG:32650")
    assert g.x0 <= x.min() and g.x0 + g.ncols * 250 > x.max() and g.x0 % 250 == 0
    c = g.counts(x, y)
    assert c.sum() == 500
    cx, cy = g.centres()
    i = int(np.argmax(c))
    inside = (np.abs(x - cx[i]) <= 125) & (np.abs(y - cy[i]) <= 125)
    assert inside.sum() == c[i]
    k = kde_cells(g, x, y, bandwidth_m=600)
    assert 0.8 * 500 < k.sum() <= 500 + 1e-6  # mass-preserving, less what leaves the grid's edge
    with pytest.raises(BadInput, match="more than"):
        Grid.covering(x, y, cell_m=1, crs="EPSG:32650", max_cells=10_000)
