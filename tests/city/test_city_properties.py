"""Property tests on a small synthetic city: metric laws and API agreement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precinct.city import RoadGraph

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def points(draw: st.DrawFn, n: int) -> np.ndarray:
    # Unit square coordinates, mapped into the city's bounding box by the test.
    return np.array([[draw(st.floats(0, 1)), draw(st.floats(0, 1))] for _ in range(n)])


def in_city(g: RoadGraph, unit: np.ndarray) -> np.ndarray:
    la0, lo0, la1, lo1 = g.bbox
    return np.column_stack([la0 + unit[:, 0] * (la1 - la0), lo0 + unit[:, 1] * (lo1 - lo0)])


@SETTINGS
@given(unit=points(3))
def test_triangle_inequality(small_city: RoadGraph, unit: np.ndarray) -> None:
    a, b, c = in_city(small_city, unit)
    for metric in ("time", "length"):
        ab = small_city.route(tuple(a), tuple(b), metric=metric)
        bc = small_city.route(tuple(b), tuple(c), metric=metric)
        ac = small_city.route(tuple(a), tuple(c), metric=metric)
        key = "time_s" if metric == "time" else "length_m"
        assert getattr(ac, key) <= getattr(ab, key) + getattr(bc, key) + 1e-6


@SETTINGS
@given(unit=points(6), hour=st.one_of(st.none(), st.integers(0, 23)))
def test_one_to_many_equals_repeated_one_to_one(small_city: RoadGraph, unit: np.ndarray,
                                                hour: int | None) -> None:
    pts = in_city(small_city, unit)
    origin, others = pts[0], pts[1:]
    many_from = small_city.travel_times_from(*origin, others, hour=hour)
    many_to = small_city.travel_times_to(*origin, others, hour=hour)
    for i, p in enumerate(others):
        fwd = small_city.route(tuple(origin), tuple(p), hour=hour).time_s
        back = small_city.route(tuple(p), tuple(origin), hour=hour).time_s
        assert many_from[i] == pytest.approx(fwd, abs=1e-6)
        assert many_to[i] == pytest.approx(back, abs=1e-6)


@SETTINGS
@given(unit=points(5), limit=st.floats(10, 400))
def test_limit_only_cuts_off(small_city: RoadGraph, unit: np.ndarray, limit: float) -> None:
    pts = in_city(small_city, unit)
    full = small_city.travel_times_to(*pts[0], pts[1:])
    cut = small_city.travel_times_to(*pts[0], pts[1:], max_time_s=limit)
    np.testing.assert_allclose(cut, np.where(full <= limit, full, np.inf))


@SETTINGS
@given(unit=points(4), k=st.integers(1, 4))
def test_k_nearest_agrees_with_sorting(small_city: RoadGraph, unit: np.ndarray, k: int) -> None:
    pts = in_city(small_city, unit)
    t = small_city.travel_times_to(*pts[0], pts[1:])
    got = small_city.k_nearest_by_time(*pts[0], pts[1:], k)
    assert [s for _, s in got] == sorted(t)[:k]


def test_synthetic_city_is_deterministic_and_connected() -> None:
    a = RoadGraph.synthetic(size_km=2, seed=3)
    b = RoadGraph.synthetic(size_km=2, seed=3)
    c = RoadGraph.synthetic(size_km=2, seed=4)
    np.testing.assert_array_equal(a.time_s, b.time_s)
    assert a.n_edges != c.n_edges or not np.array_equal(a.time_s, c.time_s)
    t = a.node_times_from(float(a.node_lat[0]), float(a.node_lon[0]))
    assert np.isfinite(t).all()  # strongly connected by construction


def test_synthetic_city_features(small_city: RoadGraph) -> None:
    from precinct.city.congestion import LOCAL, PRIMARY, TRUNK

    classes = set(small_city.road_class.tolist())
    assert {LOCAL, PRIMARY, TRUNK} <= classes
    assert (small_city.twin < 0).any()  # one-way streets downtown
    labels = [n[0] for n in small_city.names]
    assert "人民路" in labels and "内环路" in labels
    assert small_city.geocode("人民路与泰州大道交叉口")[0].score == 100


@pytest.fixture(scope="module")
def prepared() -> RoadGraph:
    return RoadGraph.synthetic(size_km=3, seed=7).prepare(hours=[8])


@SETTINGS
@given(unit=points(8), reverse=st.booleans())
def test_hierarchy_equals_dijkstra(small_city: RoadGraph, prepared: RoadGraph,
                                   unit: np.ndarray, reverse: bool) -> None:
    assert prepared.hierarchy is not None and small_city.hierarchy is None
    pts = in_city(small_city, unit)
    np.testing.assert_allclose(prepared.travel_times_to(*pts[0], pts[1:]),
                               small_city.travel_times_to(*pts[0], pts[1:]), atol=1e-6)
    np.testing.assert_allclose(prepared.travel_times_from(*pts[0], pts[1:], max_time_s=300),
                               small_city.travel_times_from(*pts[0], pts[1:], max_time_s=300),
                               atol=1e-6)
    np.testing.assert_allclose(prepared.node_times_from(*pts[0], reverse=reverse),
                               small_city.node_times_from(*pts[0], reverse=reverse), atol=1e-6)


def test_hierarchy_survives_save_and_load(prepared: RoadGraph, tmp_path) -> None:  # type: ignore[no-untyped-def]
    loaded = RoadGraph.load(prepared.save(tmp_path / "g.npz"))
    assert loaded.hierarchy is not None
    np.testing.assert_array_equal(loaded.hierarchy.kpos, prepared.hierarchy.kpos)  # type: ignore[union-attr]


@SETTINGS
@given(unit=points(20))
def test_snapping_finds_the_nearest_segment(small_city: RoadGraph, unit: np.ndarray) -> None:
    """The grid index agrees with shapely's exact distances to every segment."""
    import shapely

    pts = in_city(small_city, unit * 1.1 - 0.05)  # also a little outside the town
    s = small_city.snap_many(pts)
    seg = small_city.segment_edges
    xy = small_city.node_xy
    lines = shapely.linestrings(np.stack([xy[small_city.tail[seg]], xy[small_city.head[seg]]],
                                         axis=1))
    x, y = small_city.frame.to_xy(pts[:, 0], pts[:, 1])
    for i in range(len(pts)):
        best = shapely.distance(lines, shapely.Point(x[i], y[i])).min()
        assert s.distance_m[i] == pytest.approx(best, abs=1e-6)
        # The snapped point lies on the road at that distance.
        sx, sy = small_city.frame.to_xy(s.lat[i], s.lon[i])
        assert np.hypot(sx - x[i], sy - y[i]) == pytest.approx(best, abs=1e-3)


@SETTINGS
@given(unit=points(6), hour=st.sampled_from([3, 8, 13]))
def test_hourly_hierarchies_equal_dijkstra(small_city: RoadGraph, prepared: RoadGraph,
                                           unit: np.ndarray, hour: int) -> None:
    """08:00 has its own hierarchy, 03:00 is free flow (shared), 13:00 falls back to Dijkstra."""
    assert (prepared._ch_for(8) is not None and prepared._ch_for(3) is prepared.hierarchy
            and prepared._ch_for(13) is None)
    pts = in_city(small_city, unit)
    np.testing.assert_allclose(prepared.travel_times_to(*pts[0], pts[1:], hour=hour),
                               small_city.travel_times_to(*pts[0], pts[1:], hour=hour),
                               atol=1e-6)
