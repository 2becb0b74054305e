"""Known answers on a hand-made seven-node graph (see conftest: one one-way street, a slow
street, and a second component)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from precinct.city import RoadGraph, Route
from precinct.city.congestion import FACTORS, PRIMARY
from precinct.errors import BadInput, NotFound, Unreachable

from .conftest import latlon, node


def pts(*ids: int) -> np.ndarray:
    return np.array([node(i) for i in ids])


def test_sizes_and_bbox(toy: RoadGraph) -> None:
    assert toy.n_nodes == 7 and toy.n_edges == 11
    la0, lo0, la1, lo1 = toy.bbox
    assert la0 < la1 and lo0 < lo1
    assert int((toy.twin < 0).sum()) == 1  # only 1 -> 2 is one-way


def test_node_times_forward_and_reverse(toy: RoadGraph) -> None:
    fwd = toy.node_times_from(*node(0))
    np.testing.assert_allclose(fwd[:5], [0, 10, 20, 40, 50], atol=1e-9)
    assert np.isinf(fwd[5:]).all()
    rev = toy.node_times_from(*node(0), reverse=True)
    np.testing.assert_allclose(rev[:5], [0, 10, 90, 70, 50], atol=1e-9)


def test_one_way_forces_the_long_way_back(toy: RoadGraph) -> None:
    assert toy.route(node(0), node(2)).time_s == pytest.approx(20)
    back = toy.route(node(2), node(0))
    assert back.time_s == pytest.approx(90)
    assert back.length_m == pytest.approx(350)
    assert len(back.path) >= 4


def test_metric_length_vs_time(toy: RoadGraph) -> None:
    fast = toy.route(node(0), node(3), metric="time")
    assert fast.time_s == pytest.approx(40) and fast.length_m == pytest.approx(300)
    short = toy.route(node(0), node(3), metric="length")
    assert short.length_m == pytest.approx(250)  # 0 -> 4 -> 3: short but slow
    assert short.time_s == pytest.approx(70)


def test_mid_edge_points(toy: RoadGraph) -> None:
    mid = latlon(150, 0)  # half way along the one-way 1 -> 2
    s = toy.snap(*latlon(150, 30))
    assert s.fraction == pytest.approx(0.5, abs=1e-6)
    assert s.distance_m == pytest.approx(30, abs=0.01)
    assert toy.route(node(0), mid).time_s == pytest.approx(15)
    assert toy.route(mid, node(0)).time_s == pytest.approx(95)  # forward to 2, then around
    # Same segment, along and against the one-way direction.
    assert toy.route(latlon(120, 0), latlon(180, 0)).time_s == pytest.approx(6)
    assert toy.route(latlon(180, 0), latlon(120, 0)).time_s == pytest.approx(2 + 90 + 10 + 2)


def test_one_to_many_and_many_to_one(toy: RoadGraph) -> None:
    np.testing.assert_allclose(toy.travel_times_from(*node(0), pts(0, 1, 2, 3, 4)),
                               [0, 10, 20, 40, 50], atol=1e-6)
    np.testing.assert_allclose(toy.travel_times_to(*node(0), pts(0, 1, 2, 3, 4)),
                               [0, 10, 90, 70, 50], atol=1e-6)


def test_time_limit_gives_inf(toy: RoadGraph) -> None:
    t = toy.travel_times_from(*node(0), pts(2, 3), max_time_s=30)
    assert t[0] == pytest.approx(20) and np.isinf(t[1])
    t = toy.travel_times_to(*node(0), pts(1, 2), max_time_s=30)
    assert t[0] == pytest.approx(10) and np.isinf(t[1])


def test_other_component_is_unreachable(toy: RoadGraph) -> None:
    with pytest.raises(Unreachable):
        toy.route(node(0), node(5))
    assert np.isinf(toy.travel_times_to(*node(5), pts(0, 1))).all()
    assert np.isinf(toy.travel_times_from(*node(0), pts(6))).all()


def test_hour_of_day_slows_traffic(toy: RoadGraph) -> None:
    night = toy.route(node(0), node(2), hour=3).time_s
    rush = toy.route(node(0), node(2), hour=8).time_s
    assert night == pytest.approx(20 * FACTORS[PRIMARY, 3])
    assert rush == pytest.approx(20 * FACTORS[PRIMARY, 8])
    assert rush > night


def test_walking_ignores_one_way(toy: RoadGraph) -> None:
    t = toy.node_times_from(*node(2), speed_mps=2.0)
    assert t[0] == pytest.approx(100)  # 200 m back along the one-way at 2 m/s


def test_k_nearest_by_time(toy: RoadGraph) -> None:
    units = pts(2, 1, 4, 5)
    assert toy.k_nearest_by_time(*node(0), units, 3) == [(1, pytest.approx(10)),
                                                         (2, pytest.approx(50)),
                                                         (0, pytest.approx(90))]
    assert len(toy.k_nearest_by_time(*node(0), units, 10)) == 3  # unreachable left out
    assert toy.k_nearest_by_time(*node(0), units, 0) == []


def test_nearest_nodes(toy: RoadGraph) -> None:
    lat, lon = zip(latlon(190, 10), latlon(5, 95), strict=True)
    assert toy.nearest_nodes(np.array(lat), np.array(lon)).tolist() == [2, 4]


def test_isochrone_walk_and_drive(toy: RoadGraph) -> None:
    walk = toy.isochrone(*node(0), 60, speed_mps=1.0)
    assert walk.geom_type in ("Polygon", "MultiPolygon")
    lat0, lon0 = node(0)
    lat2, lon2 = node(2)
    assert walk.contains(shapely.Point(lon0, lat0))
    assert not walk.contains(shapely.Point(lon2, lat2))
    drive = toy.isochrone(*node(0), 25)
    assert drive.contains(shapely.Point(lon2, lat2))
    assert toy.isochrone(*node(0), 100).area >= drive.area


def test_geocode_street_and_junction(toy: RoadGraph) -> None:
    best = toy.geocode("人民路")[0]
    assert best.label.startswith("人民路") and best.score == 100
    for text in ("人民路与泰州大道交叉口", "Renmin Rd & Taizhou Ave",
                 "renmin road and taizhou avenue"):
        j = toy.geocode(text)[0]
        assert (j.lat, j.lon) == pytest.approx(node(2), abs=1e-9), text
    assert toy.geocode("Renmn Road")[0].label.startswith("人民路")  # a typo
    assert toy.geocode("zzzz qqqq") == []
    assert toy.street_name(*latlon(150, 5)) == "人民路 / Renmin Road"
    assert toy.street_name(*latlon(-5, 50)) is None  # the unnamed street 4 - 0
    with pytest.raises(BadInput):
        toy.geocode("  ")


def test_edges_for_the_map(toy: RoadGraph) -> None:
    seg = toy.edge_segments()
    assert seg["lat1"].size == 6  # physical segments: five two-way streets, one one-way
    gj = toy.edges_geojson()
    assert len(gj["features"]) == 6
    assert gj["features"][0]["geometry"]["type"] == "LineString"


def test_save_load_roundtrip(toy: RoadGraph, tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = toy.save(tmp_path / "g.npz")
    g = RoadGraph.load(p)
    assert g.n_edges == toy.n_edges and g.names == toy.names
    np.testing.assert_array_equal(g.time_s, toy.time_s)
    assert g.route(node(2), node(0)).time_s == pytest.approx(90)
    with pytest.raises(NotFound):
        RoadGraph.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(BadInput):
        RoadGraph.load(tmp_path / "junk.npz")


@pytest.mark.parametrize("call", [
    lambda g: g.snap(95.0, 120.0),
    lambda g: g.snap(float("nan"), 120.0),
    lambda g: g.snap(31.0, 120.0),  # over 100 km away: off the network
    lambda g: g.route(node(0), node(2), metric="fastest"),
    lambda g: g.route(node(0), node(2), hour=24),
    lambda g: g.route((1, 2, 3), node(2)),
    lambda g: g.travel_times_to(*node(0), np.zeros((3, 3))),
    lambda g: g.travel_times_to(*node(0), [[30.0, 120.0], [31.0, 120.0]]),
    lambda g: g.travel_times_from(*node(0), pts(1), max_time_s=-5),
    lambda g: g.k_nearest_by_time(*node(0), pts(1), -1),
    lambda g: g.isochrone(*node(0), 0),
    lambda g: g.isochrone(*node(0), 60, speed_mps=0),
])
def test_bad_input_is_refused_clearly(toy: RoadGraph, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInput) as info:
        call(toy)
    assert info.value.message


def test_empty_source_list(toy: RoadGraph) -> None:
    assert toy.travel_times_to(*node(0), np.zeros((0, 2))).shape == (0,)


def test_route_json_shape(toy: RoadGraph) -> None:
    r = toy.route(node(0), node(3))
    assert isinstance(r, Route)
    d = r.to_dict()
    assert set(d) == {"length_m", "time_s", "path"} and d["path"][0] == pytest.approx(
        list(node(0)), abs=1e-6)


def test_inconsistent_arrays_are_refused() -> None:
    with pytest.raises(BadInput):
        RoadGraph.from_edges(node_lat=[0.0], node_lon=[0.0], tail=[0], head=[3], length_m=[1],
                             time_s=[1])
    with pytest.raises(BadInput):
        RoadGraph.from_edges(node_lat=[0.0, 0.0], node_lon=[0.0, 0.001], tail=[0], head=[1],
                             length_m=[1], time_s=[-1])


def test_hierarchy_on_the_toy_graph(toy: RoadGraph, tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = RoadGraph.load(toy.save(tmp_path / "t.npz")).prepare()
    np.testing.assert_allclose(g.travel_times_to(*node(0), pts(0, 1, 2, 3, 4)),
                               [0, 10, 90, 70, 50], atol=1e-9)
    np.testing.assert_allclose(g.node_times_from(*node(0))[:5], [0, 10, 20, 40, 50], atol=1e-9)
    assert np.isinf(g.node_times_from(*node(0))[5:]).all()
    assert np.isinf(g.travel_times_to(*node(5), pts(0, 1))).all()
    # With an hour the hierarchy (free flow) is not used; answers follow the congestion table.
    assert g.travel_times_from(*node(0), pts(2), hour=8)[0] == pytest.approx(
        20 * FACTORS[PRIMARY, 8])
