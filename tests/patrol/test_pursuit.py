"""Checkpoint planning: the MILP against brute force, interception against a step-by-step check."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from precinct.patrol import pursuit
from precinct.patrol.network import csr_from_edges


def grid(n: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    tail, head, cost = [], [], []
    for r in range(n):
        for c in range(n):
            u = r * n + c
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < n and c + dc < n:
                    v = (r + dr) * n + c + dc
                    t = float(rng.uniform(20, 60))
                    tail += [u, v]
                    head += [v, u]
                    cost += [t, t]
    a = csr_from_edges(n * n, np.array(tail), np.array(head), np.array(cost))
    xy = np.array([[c * 300.0, r * 300.0] for r in range(n) for c in range(n)])
    return a, xy


def brute_force(a, source, units, k, elapsed, horizon, delay, setup):
    t_s, pred = pursuit.suspect_tree(a, source, horizon)
    exits = pursuit.exits_of(a, t_s, horizon)
    ut = pursuit.unit_times(a, np.array(units), 1e9)
    paths = [set(pursuit._path(pred, int(e)).tolist()) for e in exits]
    pairs = [(u, v) for u in range(len(units)) for v in range(a.shape[0])
             if np.isfinite(t_s[v]) and elapsed + delay + setup + ut[u, v] <= t_s[v]]
    best = 0
    for r in range(1, k + 1):
        for combo in itertools.combinations(pairs, r):
            if len({u for u, _ in combo}) < r or len({v for _, v in combo}) < r:
                continue
            nodes = {v for _, v in combo}
            best = max(best, sum(1 for p in paths if p & nodes))
    return best / len(exits)


@pytest.mark.parametrize("seed", range(4))
def test_checkpoint_milp_equals_brute_force(seed: int) -> None:
    a, _xy = grid(5, seed)
    rng = np.random.default_rng(seed)
    units = [*[int(u) for u in rng.choice(np.arange(25), 3, replace=False) if u != 12][:2], 0]
    kw = dict(elapsed=5.0, horizon=95.0, delay=5.0, setup=5.0)
    plan = pursuit.plan_checkpoints(a, 12, np.array(units), k=2, elapsed_s=kw["elapsed"],
                                    horizon_s=kw["horizon"], dispatch_delay_s=kw["delay"],
                                    setup_s=kw["setup"], time_limit=30)
    expected = brute_force(a, 12, units, 2, *kw.values())
    assert plan.covered == pytest.approx(expected, abs=1e-9)
    assert len({c.unit for c in plan.checkpoints}) == len(plan.checkpoints) <= 2
    for c in plan.checkpoints:
        assert c.ready_s <= c.suspect_s


def slow_intercepted(esc: pursuit.Escapes, nodes, ready) -> list[bool]:
    out = []
    for path, tt in zip(esc.paths, esc.times, strict=True):
        hit = False
        for v, t in zip(path.tolist(), tt.tolist(), strict=True):
            for cn, cr in zip(nodes, ready, strict=True):
                if v == cn and cr <= t:
                    hit = True
        out.append(hit)
    return out


def test_interception_matches_step_by_step_check() -> None:
    a, _xy = grid(7, 3)
    esc = pursuit.simulate_escapes(a, 24, horizon_s=200.0, n_routes=60, seed=1)
    assert len(esc.paths) == 60
    for path, tt in zip(esc.paths, esc.times, strict=True):
        assert path[0] == 24 and tt[0] == 0 and (np.diff(tt) > 0).all()
    rng = np.random.default_rng(5)
    for _ in range(5):
        nodes = rng.choice(49, 4, replace=False)
        ready = rng.uniform(0, 150, 4)
        assert pursuit.intercepted(esc, nodes, ready).tolist() == slow_intercepted(esc, nodes, ready)


def test_plan_beats_nearest_junction_baseline() -> None:
    a, xy = grid(12, 9)
    src = 6 * 12 + 6
    units = np.array([0, 11, 132, 143, 60, 83])
    plan = pursuit.plan_checkpoints(a, src, units, k=6, elapsed_s=0, horizon_s=200, dispatch_delay_s=10,
                                    setup_s=10, xy=xy)
    esc = pursuit.simulate_escapes(a, src, horizon_s=200, n_routes=300, seed=2)
    ours = pursuit.intercepted(esc, np.array([c.node for c in plan.checkpoints]),
                               np.array([c.ready_s for c in plan.checkpoints])).mean()
    ut = pursuit.unit_times(a, units, 1e9)
    bn, br = pursuit.nearest_junction_plan(a, units, ut, elapsed_s=0, dispatch_delay_s=10, setup_s=10)
    base = pursuit.intercepted(esc, bn, br).mean()
    assert plan.covered > 0
    assert ours >= base


def test_heading_prefers_routes_that_way() -> None:
    a, xy = grid(9, 1)
    src = 40
    exits = pursuit.exits_of(a, pursuit.suspect_tree(a, src, 250)[0], 250)
    w = pursuit.heading_weights(xy, src, exits, 90.0)  # east
    east = xy[exits, 0] > xy[src, 0]
    assert w[east].mean() > w[~east].mean()
