"""Planner options of a p-median plan on a small synthetic city, against the matrix solvers on an
independently built dense matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from precinct.errors import BadInput
from precinct.patrol import risk, service, solvers
from precinct.patrol.demand import Points
from precinct.patrol.network import drive_matrix, response_matrix, sparse_response_matrix

city_mod = pytest.importorskip("precinct.city")


@pytest.fixture(scope="module")
def graph() -> Any:
    return city_mod.RoadGraph.synthetic(size_km=4, seed=3)


def demand_points(graph: Any, n: int = 100, seed: int = 2) -> Points:
    rng = np.random.default_rng(seed)
    idx = rng.choice(graph.n_nodes, n, replace=False)
    return Points(graph.node_lat[idx].copy(), graph.node_lon[idx].copy(), rng.integers(1, 6, n).astype(float),
                  [str(i) for i in range(n)])


def test_sparse_cutoff_matrix_equals_dense_within_the_cutoff(graph: Any) -> None:
    a = drive_matrix(graph)
    rng = np.random.default_rng(0)
    dem = rng.choice(graph.n_nodes, 60, replace=False)
    cand = rng.choice(graph.n_nodes, 20, replace=False)
    dense = response_matrix(a, dem, cand)
    sparse = sparse_response_matrix(a, dem, cand, 240.0).toarray()
    inside = dense <= 240.0
    assert sparse.shape == dense.shape
    assert np.allclose(sparse[inside], dense[inside])
    assert (sparse[~inside] == 0).all()


def test_keep_current_cutoff_and_before_after(graph: Any) -> None:
    dem = demand_points(graph)
    cur = Points(graph.node_lat[:2].copy(), graph.node_lon[:2].copy(), np.ones(2), ["a", "b"])
    out = service.plan_posts(graph=graph, demand=dem, posts=2, objective="pmedian", current=cur,
                             keep_current=True)
    assert out["status"] == "optimal" and len(out["posts"]) == 4
    cur_nodes = set(np.unique(graph.nearest_nodes(cur.lat, cur.lon)).tolist())
    assert cur_nodes <= {p["node"] for p in out["posts"]}
    ba = out["before_after"]
    assert ba["after"]["mean_s"] <= ba["before"]["mean_s"] + 1e-9 and "分钟" in ba["text_zh"]
    # the same plan as the matrix solver with the current posts fixed
    a = drive_matrix(graph)
    dn, inv = np.unique(graph.nearest_nodes(dem.lat, dem.lon), return_inverse=True)
    w = np.bincount(inv.ravel(), weights=dem.weight)
    cand = np.unique(np.concatenate([service.default_candidates(graph, dem), list(cur_nodes)]))
    d = response_matrix(a, dn, cand)
    keep = np.isfinite(d).any(axis=1)
    ref = solvers.p_median(d[keep], 2, w[keep], fixed=np.searchsorted(cand, sorted(cur_nodes)))
    assert out["value"] == pytest.approx(ref.value)
    # a generous cutoff changes nothing
    far = service.plan_posts(graph=graph, demand=dem, posts=2, objective="pmedian", current=cur,
                             keep_current=True, cutoff_minutes=60)
    assert far["value"] == pytest.approx(ref.value)


def test_backup_cells_and_capacity(graph: Any) -> None:
    dem = demand_points(graph, 80, seed=4)
    cells = risk.cells_for(dem.lat[:3], dem.lon[:3], 8)
    out = service.plan_posts(graph=graph, demand=dem, posts=4, objective="pmedian", backup_cells=list(cells),
                             backup_minutes=5)
    assert out["stats"]["backup_rows"] >= 1
    plain = service.plan_posts(graph=graph, demand=dem, posts=4, objective="pmedian")
    assert out["value"] >= plain["value"] - 1e-6
    cap = float(dem.weight.sum()) / 3.5
    capped = service.plan_posts(graph=graph, demand=dem, posts=4, objective="pmedian", capacity=cap)
    assert capped["value"] >= plain["value"] - 1e-6
    assert max(p["served_weight"] for p in capped["posts"]) <= cap * 1.5  # main-post shares stay near the cap
    with pytest.raises(BadInput):
        service.plan_posts(graph=graph, demand=dem, posts=2, objective="pcenter", capacity=cap)
