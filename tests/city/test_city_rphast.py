"""RPHAST (restricted sweeps) against networkx: every cut, both directions, moving fleets."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

from precinct.city import RoadGraph, routing
from precinct.city.sweep import (
    KEEP_TOP,
    MAX_GROWTH,
    CutModel,
    FleetSelection,
    phast,
    rphast,
    rphast_compact,
    rphast_selected,
)


@pytest.fixture(scope="module")
def city() -> RoadGraph:
    return RoadGraph.synthetic(size_km=3, seed=11).prepare()


@pytest.fixture(scope="module")
def reversed_nx(city: RoadGraph) -> nx.DiGraph:
    """The city's graph with every edge reversed (cheapest of parallel edges kept)."""
    w = city.weights("time")
    G = nx.DiGraph()
    G.add_nodes_from(range(city.n_nodes))
    for t, h, c in zip(city.tail.tolist(), city.head.tolist(), w.tolist(), strict=True):
        if not G.has_edge(h, t) or G[h][t]["w"] > c:
            G.add_edge(h, t, w=c)
    return G


def nx_times_to(G: nx.DiGraph, target: int, nodes: np.ndarray) -> np.ndarray:
    ref = nx.single_source_dijkstra_path_length(G, target, weight="w")
    return np.array([ref.get(int(v), np.inf) for v in nodes.tolist()])


def test_every_cut_equals_networkx(city: RoadGraph, reversed_nx: nx.DiGraph) -> None:
    h = city.hierarchy
    assert h is not None
    model = CutModel(h.out_indptr, h.out_adj)
    assert model.cuts[0] == 0 and model.cuts[-1] == city.n_nodes
    rng = np.random.default_rng(2)
    for _ in range(4):
        target = int(rng.integers(city.n_nodes))
        nodes = rng.choice(city.n_nodes, size=300, replace=False)
        want = nx_times_to(reversed_nx, target, nodes)
        sk = h.kpos[np.array([target])]
        for cut in model.cuts.tolist():
            got = rphast(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w, sk,
                         np.zeros(1), h.kpos[nodes], cut)
            assert np.array_equal(np.isinf(got), np.isinf(want)), cut
            fin = np.isfinite(want)
            assert np.abs(got[fin] - want[fin]).max() < 1e-9, cut
        full = phast(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w, sk,
                     np.zeros(1))
        np.testing.assert_allclose(full[h.kpos[nodes]], want, rtol=0, atol=1e-9)


def test_forward_direction_equals_networkx(city: RoadGraph, reversed_nx: nx.DiGraph) -> None:
    h = city.hierarchy
    assert h is not None
    G = reversed_nx.reverse(copy=True)
    rng = np.random.default_rng(3)
    source = int(rng.integers(city.n_nodes))
    nodes = rng.choice(city.n_nodes, size=500, replace=False)
    want = nx_times_to(G, source, nodes)
    got = h.to_targets(np.array([source]), np.zeros(1), nodes, reverse=False)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_moving_fleet_stays_exact(city: RoadGraph) -> None:
    """Same fleet, a few units moved, a whole new fleet: the kept selection and the stateless
    sweep both agree with plain Dijkstra, and the kept selection is really used."""
    h = city.hierarchy
    assert h is not None
    plain = RoadGraph(node_lat=city.node_lat, node_lon=city.node_lon, indptr=city.indptr,
                      head=city.head, length_m=city.length_m, time_s=city.time_s,
                      road_class=city.road_class, name_id=city.name_id, names=city.names)
    rng = np.random.default_rng(4)
    la0, lo0, la1, lo1 = city.bbox

    def pts(n: int) -> np.ndarray:
        return np.column_stack([rng.uniform(la0, la1, n), rng.uniform(lo0, lo1, n)])

    fleet = pts(200)
    for step in range(8):
        if step == 4:
            fleet[:5] = pts(5)  # a few units moved
        if step == 6:
            fleet = pts(200)  # a new fleet
        incident = pts(1)[0]
        got = city.travel_times_to(*incident, fleet)
        want = plain.travel_times_to(*incident, fleet)
        assert np.array_equal(np.isinf(got), np.isinf(want))
        fin = np.isfinite(want)
        assert np.abs(got[fin] - want[fin]).max() < 1e-9
    kept = h._fleets[True]
    assert kept._mark is not None and 0 < kept._selected.size < city.n_nodes


def test_kept_selection_is_closed_and_restarts(city: RoadGraph) -> None:
    h = city.hierarchy
    assert h is not None
    fs = FleetSelection(h.out_indptr, h.out_adj)
    rng = np.random.default_rng(5)
    tk = rng.choice(city.n_nodes, size=50, replace=False).astype(np.int64)
    assert fs.selected_for(tk) is None  # first sight: stateless
    sel = fs.selected_for(tk)
    assert sel is not None and np.all(np.diff(sel) > 0) and np.isin(tk, sel).all()
    # Closed upwards: every edge of a kept node leads to a kept node.
    for k in sel.tolist():
        assert np.isin(h.out_adj[h.out_indptr[k]:h.out_indptr[k + 1]], sel).all()
    sk = h.kpos[np.array([7])]
    a = rphast_selected(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w, sk,
                        np.zeros(1), sel, tk)
    b = phast(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w, sk,
              np.zeros(1))[tk]
    np.testing.assert_array_equal(a, b)
    # Drifting fleets grow the kept set; past MAX_GROWTH it is pruned to its top and rebuilt.
    sizes = [sel.size]
    for _ in range(200):
        tk = np.concatenate([tk[3:], rng.choice(city.n_nodes, size=3)]).astype(np.int64)
        s = fs.selected_for(tk)
        assert s is not None and np.isin(tk, s).all() and np.all(np.diff(s) > 0)
        sizes.append(s.size)
        b = phast(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w, sk,
                  np.zeros(1))[tk]
        a = rphast_selected(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w,
                            sk, np.zeros(1), s, tk)
        np.testing.assert_array_equal(a, b)
    assert any(b < a for a, b in pairwise(sizes))  # pruned
    assert s is not None
    for k in s.tolist():  # still closed upwards after pruning and rebuilding
        assert np.isin(h.out_adj[h.out_indptr[k]:h.out_indptr[k + 1]], s).all()
    assert max(sizes) <= 2 * MAX_GROWTH * sizes[0] + city.n_nodes * KEEP_TOP


def test_travel_times_use_the_selection(city: RoadGraph) -> None:
    """A repeated fleet is answered from the kept selection (checked against routing)."""
    rng = np.random.default_rng(6)
    la0, lo0, la1, lo1 = city.bbox
    fleet = np.column_stack([rng.uniform(la0, la1, 50), rng.uniform(lo0, lo1, 50)])
    a = city.travel_times_to(32.49, 119.92, fleet)
    b = city.travel_times_to(32.49, 119.92, fleet)
    w = city.weights("time")
    ref = routing.many_to_one(city, city.snap(32.49, 119.92), city.snap_many(fleet), w)
    np.testing.assert_allclose(a, ref, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(a, b)


def test_compact_layout_of_a_stable_fleet(city: RoadGraph) -> None:
    """A kept set that serves queries unchanged gets its own CSR; answers stay the same."""
    h = city.hierarchy
    assert h is not None
    fs = FleetSelection(h.out_indptr, h.out_adj, h.out_w)
    rng = np.random.default_rng(7)
    tk = rng.choice(city.n_nodes, size=80, replace=False).astype(np.int64)
    plans = [fs.plan(tk) for _ in range(5)]
    assert plans[0] is None and all(p is not None for p in plans[1:])
    compacts = [p[1] for p in plans[1:] if p is not None]
    assert compacts[0] is None and compacts[-1] is not None
    compact = compacts[-1]
    selected = plans[-1][0]  # type: ignore[index]
    for source in (3, 50, 400):
        sk = h.kpos[np.array([source])]
        want = phast(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w, sk,
                     np.zeros(1))[tk]
        got = rphast_compact(h.in_indptr, h.in_adj, h.in_w, h.out_indptr, h.out_adj, h.out_w,
                             sk, np.zeros(1), selected, compact.indptr, compact.adj, compact.w,
                             compact.local[tk])
        np.testing.assert_array_equal(got, want)
    # A unit moves: the kept set grows and the compact layout is dropped until stable again.
    moved = tk.copy()
    moved[0] = int(np.setdiff1d(np.arange(city.n_nodes), selected)[0])
    after = fs.plan(moved)
    assert after is not None and after[1] is None and after[0].size > selected.size


def test_repeated_dispatch_queries_equal_dijkstra(city: RoadGraph) -> None:
    rng = np.random.default_rng(8)
    la0, lo0, la1, lo1 = city.bbox
    fleet = np.column_stack([rng.uniform(la0, la1, 120), rng.uniform(lo0, lo1, 120)])
    w = city.weights("time")
    snaps = city.snap_many(fleet)
    for _ in range(6):  # stateless, kept, kept, compact, compact, compact
        lat, lon = rng.uniform(la0, la1), rng.uniform(lo0, lo1)
        got = city.travel_times_to(lat, lon, fleet)
        want = routing.many_to_one(city, city.snap(lat, lon), snaps, w)
        assert np.array_equal(np.isinf(got), np.isinf(want))
        fin = np.isfinite(want)
        assert np.abs(got[fin] - want[fin]).max() < 1e-9
    assert h_compact(city) is not None


def h_compact(city: RoadGraph) -> object:
    h = city.hierarchy
    assert h is not None
    return h._fleets[True]._compact
