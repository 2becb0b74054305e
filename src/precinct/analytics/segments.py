"""Counts per road segment of Precinct's road network (``precinct.city``).

Each event is snapped to its nearest physical segment (a two-way street counts once) within
``max_distance_m``; events farther from every road are counted as ``unsnapped``, not dropped
silently. Output: one row per segment with at least one event, with its midpoint for the map.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from precinct.analytics.events import Events, to_wgs84
from precinct.errors import BadInput


def snap_segments(events: Events, graph: Any, *, max_distance_m: float = 50.0) -> np.ndarray:
    """Index into ``graph.segment_edges`` of each event's nearest segment; -1 beyond ``max_distance_m``."""
    from precinct.city import service as city

    if graph.n_edges == 0:
        raise BadInput("the road network has no roads")
    if not max_distance_m > 0:
        raise BadInput("max distance must be positive", detail={"field": "max_distance_m"})
    lat, lon = to_wgs84(events.x, events.y, events.crs)
    x, y = graph.frame.to_xy(lat, lon)
    return np.asarray(city.nearest_segments(graph, x, y, max_distance_m), dtype=np.int64)


def segment_midpoints(graph: Any, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 midpoints of segments (indices into ``graph.segment_edges``)."""
    edge = graph.segment_edges[seg]
    mid = (graph.node_xy[graph.tail[edge]] + graph.node_xy[graph.head[edge]]) / 2
    lat, lon = graph.frame.to_latlon(mid[:, 0], mid[:, 1])
    return np.asarray(lat), np.asarray(lon)


def segment_counts(events: Events, graph: Any, *, max_distance_m: float = 50.0) -> dict[str, Any]:
    """Events per road segment.

    Parameters
    ----------
    events : Events
        Incident points (any metric CRS; they are taken back to WGS84 for the network).
    graph : precinct.city.RoadGraph
        The road network (``precinct.city.service.current_city()``).
    max_distance_m : float
        Farther than this from every road, an event is not assigned to a segment.

    Returns
    -------
    dict
        ``{"segments": [{"edge", "count", "lat", "lon", "length_m"}, ...] (most first),
        "snapped", "unsnapped", "max_distance_m"}``.
    """
    seg = snap_segments(events, graph, max_distance_m=max_distance_m)
    ok = seg >= 0
    counts = np.bincount(seg[ok], minlength=graph.segment_edges.size)
    hit = np.flatnonzero(counts)
    hit = hit[np.argsort(-counts[hit], kind="stable")]
    edge = graph.segment_edges[hit]
    mlat, mlon = segment_midpoints(graph, hit)
    rows = [{"edge": int(e), "count": int(counts[s]), "lat": float(a), "lon": float(b),
             "length_m": float(graph.length_m[e])}
            for s, e, a, b in zip(hit, edge, mlat, mlon, strict=True)]
    return {"segments": rows, "snapped": int(ok.sum()), "unsnapped": int((~ok).sum()),
            "max_distance_m": float(max_distance_m)}
