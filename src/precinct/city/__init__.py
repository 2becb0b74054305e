"""City model: the road graph, travel times, snapping, isochrones, street names.

Use ``precinct.city.service.current_city()`` for this installation's graph (built by
``precinct city build``, else the default synthetic city), then ask it::

    g.travel_times_to(lat, lon, units_latlon, max_time_s=None, hour=None)  # dispatch: units -> incident
    g.travel_times_from(lat, lon, targets_latlon)                          # one -> many
    g.k_nearest_by_time(lat, lon, units_latlon, k)                         # [(index, seconds)]
    g.route((lat, lon), (lat, lon), metric="time" | "length", hour=None)   # Route; Unreachable
    g.isochrone(lat, lon, seconds, speed_mps=None)                         # shapely, lon/lat
    g.node_times_from(lat, lon, reverse=False, speed_mps=None)             # per node
    g.snap(lat, lon), g.nearest_nodes(lats, lons), g.geocode("人民路与泰州大道交叉口")
    g.edge_segments(), g.edges_geojson()                                   # drawing the map

Unreachable or over-limit answers are ``numpy.inf`` in arrays; bad input raises ``BadInput``.
One-to-many queries use the contraction hierarchy made by ``prepare()`` (free flow, done by
``precinct city build``; ``prepare(hours=[8, 18])`` / ``--hours 8,18`` add congested hours);
other hours fall back to Dijkstra on congested times. Same answers either way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from precinct.city.names import Candidate
    from precinct.city.road import RoadGraph
    from precinct.city.routing import Route
    from precinct.city.snapping import Snap, Snaps

__all__ = ["Candidate", "RoadGraph", "Route", "Snap", "Snaps"]

# Imported on first use (PEP 562): the package is imported by ``precinct --help`` (through
# ``precinct.city.cli``), which should not load numba and SciPy.
_WHERE = {"Candidate": "names", "RoadGraph": "road", "Route": "routing", "Snap": "snapping",
          "Snaps": "snapping"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"precinct.city.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'precinct.city' has no attribute {name!r}")
