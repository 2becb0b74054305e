"""Forecasts: the self-exciting model recovers the parameters of a simulated process (known truth),
and the rolling-origin evaluation's hit rate and PAI are counted right."""

from __future__ import annotations

import numpy as np
import pytest

from precinct.analytics.evaluate import evaluate
from precinct.analytics.events import from_arrays
from precinct.analytics.forecast import Train, fit_sepp, top_cells
from precinct.analytics.grid import Grid
from precinct.errors import BadInput

THETA, OMEGA, SIGMA = 0.4, 1 / 4.0, 60.0


def simulate(days: float = 500.0, rate: float = 6.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Hawkes process by branching: background Poisson(rate/day) over 8 x 8 km with 5 hot areas;
    each event has Poisson(THETA) offspring, delay Exp(OMEGA), displacement N(0, SIGMA^2)."""
    rng = np.random.default_rng(seed)
    n0 = rng.poisson(rate * days)
    hot = rng.uniform(1000, 7000, (5, 2))
    in_hot = rng.random(n0) < 0.4
    xy = rng.uniform(0, 8000, (n0, 2))
    pick = rng.integers(0, 5, n0)
    xy[in_hot] = hot[pick[in_hot]] + rng.normal(0, 300, (int(in_hot.sum()), 2))
    t = rng.uniform(0, days, n0)
    gx, gy, gt = [xy[:, 0]], [xy[:, 1]], [t]
    px, py, pt = xy[:, 0], xy[:, 1], t
    while pt.size:
        k = rng.poisson(THETA, pt.size)
        idx = np.repeat(np.arange(pt.size), k)
        cx = px[idx] + rng.normal(0, SIGMA, idx.size)
        cy = py[idx] + rng.normal(0, SIGMA, idx.size)
        ct = pt[idx] + rng.exponential(1 / OMEGA, idx.size)
        keep = ct < days
        px, py, pt = cx[keep], cy[keep], ct[keep]
        gx.append(px)
        gy.append(py)
        gt.append(pt)
    return np.concatenate(gx), np.concatenate(gy), np.concatenate(gt)


def test_sepp_recovers_the_simulated_parameters() -> None:
    x, y, t = simulate()
    grid = Grid.covering(x, y, cell_m=200, crs="EPSG:32650")
    fit = fit_sepp(grid, Train(x, y, t), t_end=500.0)
    assert fit.theta == pytest.approx(THETA, abs=0.06)
    assert 1 / fit.omega == pytest.approx(1 / OMEGA, rel=0.25)
    assert fit.sigma == pytest.approx(SIGMA, rel=0.2)
    # background plus offspring account for the events
    assert fit.background.sum() * 500 == pytest.approx(t.size * (1 - fit.theta), rel=0.1)


def test_rolling_origin_evaluation_counts_hits_and_pai() -> None:
    x, y, t = simulate(days=120, rate=8, seed=3)
    ts = np.datetime64("2026-01-01T00:00:00") + (t * 86400).astype("timedelta64[s]")
    ev = from_arrays(x=x, y=y, ts=ts, crs="EPSG:32650")
    out = evaluate(ev, cell_m=250, train_days=60, test_days=7, origins=4, area_shares=(0.05, 0.01))
    assert [m["method"] for m in out["methods"]] == ["kde", "retrospective", "prospective", "sepp"]
    assert len(out["origins"]) == 4 and out["origins"][0] == "2026-04-03T00:00:00"  # 120 days - 4 x 7
    for m in out["methods"]:
        assert {"method", "hit_rate", "pai"} <= set(m)
        assert 0 <= m["hit_rate"] <= 1
        assert m["pai"] == pytest.approx(m["hit_rate"] / (out["flagged_cells"] / out["study_cells"]))
        assert m["by_area_share"][1]["hit_rate"] <= m["hit_rate"]
    kde, sepp = out["methods"][0], out["methods"][3]
    assert kde["pai_vs_kde"] == 1.0 and kde["pai"] > 1  # better than flagging cells at random
    assert sepp["by_area_share"][1]["pai"] > 0.9 * kde["by_area_share"][1]["pai"]


def test_top_cells_and_limits() -> None:
    s = np.array([0.0, 3.0, 1.0, 3.0, 2.0])
    assert top_cells(s, np.arange(5), 3).tolist() == [1, 3, 4]
    ev = from_arrays(x=[0.0, 10.0], y=[0.0, 10.0], ts=np.array(["2026-01-01", "2026-01-02"], dtype="datetime64[s]"),
                     crs="EPSG:32650")
    with pytest.raises(BadInput, match="too short"):
        evaluate(ev, cell_m=100, train_days=365, test_days=7, origins=8)
