"""Knox: pointpats' Knox on burkitt and random points, the published Chicago table, band edges."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from precinct.analytics.knox import knox, knox_table, parse_edges
from precinct.errors import BadInput


def _burkitt() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Burkitt's lymphoma in Uganda (188 cases), shipped with libpysal (no download)."""
    import libpysal
    import libpysal.examples as ex

    db = libpysal.io.open(ex.get_path("burkitt.dbf"))
    cols = {name: np.asarray(db.by_col(name), dtype=float) for name in ("X", "Y", "T")}
    db.close()
    return cols["X"], cols["Y"], cols["T"]


def test_burkitt_equals_pointpats_and_its_published_figures() -> None:
    from pointpats.spacetime import Knox

    x, y, t = _burkitt()
    ours = knox(x, y, t, distance_m=20, time_days=5, permutations=999, seed=1)
    # pointpats' documented result on this data: 13 close pairs, expected 10.1438..., Poisson p 0.1462...
    assert ours.observed == 13
    assert ours.expected == pytest.approx(10.143816133803618, rel=1e-12)
    assert ours.p_poisson == pytest.approx(0.14624558197140414, rel=1e-9)
    np.random.seed(12345)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Knox(np.column_stack([x, y]), t.reshape(-1, 1), delta=20, tau=5, permutations=199)
    assert ours.observed == ref.nst and ours.expected == pytest.approx(ref.expected[0, 0], rel=1e-12)
    assert ours.ns == ref.observed[0].sum() and ours.nt == ref.observed[:, 0].sum()
    assert ours.p_value is not None and abs(ours.p_value - ref.p_sim) < 4 * np.sqrt(0.2 * 0.8 * (1 / 999 + 1 / 199))


@pytest.mark.parametrize(("delta", "tau"), [(50.0, 10.0), (120.0, 0.0), (10.0, 30.0)])
def test_random_points_equal_pointpats(delta: float, tau: float) -> None:
    from pointpats.spacetime import Knox

    rng = np.random.default_rng(int(delta))
    x, y = rng.integers(0, 1000, 400).astype(float), rng.integers(0, 1000, 400).astype(float)
    t = rng.integers(0, 120, 400).astype(float)
    ours = knox(x, y, t, distance_m=delta, time_days=tau, permutations=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Knox(np.column_stack([x, y]), t.reshape(-1, 1), delta=delta, tau=tau, permutations=0)
    assert ours.observed == ref.nst
    assert ours.expected == pytest.approx(ref.expected[0, 0], rel=1e-12)


def test_chicago_2016_reproduces_the_published_knox_table(chicago: tuple[np.ndarray, ...]) -> None:
    """All 11,701 burglaries of 2016 (T. Davies, NearRepeat, 'Usage of Knox test'): the observed
    counts exactly; the Knox ratios (published: observed over the median of 99 permutations) to
    within Monte Carlo error of a 99-permutation median (0.4 in the sparse 'same location' row,
    0.06 elsewhere)."""
    x, y, t = chicago
    in_2016 = (t >= 730) & (t < 1096)  # 2016-01-01 is day 730 of the data
    tab = knox_table(x[in_2016], y[in_2016], t[in_2016] - 730, distance_edges=[0, 0.1, 200, 400, 600],
                     time_edges=[0, 7, 14, 21], permutations=99, seed=2016)
    assert tab.n == 11_701
    published = np.array([[342, 97, 62], [1892, 1514, 1362], [4145, 3643, 3592], [5805, 5143, 4919]])
    np.testing.assert_array_equal(tab.observed, published)
    ratios = np.array([[6.45, 1.98, 1.32], [1.42, 1.25, 1.14], [1.14, 1.11, 1.11], [1.13, 1.10, 1.08]])
    assert tab.median is not None
    tol = np.full(ratios.shape, 0.06)
    tol[0] = 0.4
    assert (np.abs(tab.observed / tab.median - ratios) <= tol).all()
    assert (np.abs(tab.ratio - ratios) <= tol).all()  # observed over the exact permutation mean
    assert tab.zone() == {"distance_m": 600.0, "time_days": 21.0}


def test_band_edges_exclude_the_lower_edge_except_a_first_band_at_zero() -> None:
    # pairs: (0,1) 0 m 0 d; (0,2) 100 m 7 d; (1,2) 100 m 7 d; the rest farther than 300 m
    x = np.array([0.0, 0.0, 100.0, 1000.0])
    y = np.zeros(4)
    t = np.array([0.0, 0.0, 7.0, 50.0])
    tab = knox_table(x, y, t, distance_edges=[0, 0.1, 100, 200], time_edges=[0, 7, 14], permutations=0)
    np.testing.assert_array_equal(tab.observed, [[1, 0], [2, 0], [0, 0]])
    tab = knox_table(x, y, t, distance_edges=[0, 100, 200], time_edges=[0, 6.9, 14], permutations=0)
    np.testing.assert_array_equal(tab.observed, [[1, 2], [0, 0]])
    tab = knox_table(x, y, t, distance_edges=[50, 100, 200], time_edges=[0, 7], permutations=0)
    np.testing.assert_array_equal(tab.observed, [[2], [0]])  # (50, 100]: the 0 m pair is out
    assert tab.spatial_pairs.tolist() == [2, 0] and tab.temporal_pairs.tolist() == [3]
    # every unordered pair once: 6 pairs in all, expected = NS_d * NT_t / 6
    np.testing.assert_allclose(tab.expected, [[2 * 3 / 6], [0]])


def test_permutation_p_value_is_uniform_ish_without_interaction() -> None:
    rng = np.random.default_rng(4)
    x, y, t = rng.uniform(0, 5000, 3000), rng.uniform(0, 5000, 3000), rng.uniform(0, 365, 3000)
    tab = knox_table(x, y, t, distance_edges=[0, 100, 200], time_edges=[0, 7, 14], permutations=199, seed=1)
    assert tab.p_value is not None and tab.p_value.min() > 0.01
    assert np.abs(tab.ratio - 1).max() < 0.35
    assert tab.zone() is None


def test_bad_edges_are_refused() -> None:
    with pytest.raises(BadInput, match="strictly increasing"):
        parse_edges("0,200,100", "distance_bands")
    with pytest.raises(BadInput, match="comma-separated"):
        parse_edges("0,a", "time_bands")
    with pytest.raises(BadInput, match="at least two"):
        knox_table(np.zeros(1), np.zeros(1), np.zeros(1), distance_edges=[0, 1], time_edges=[0, 1])
