"""Counts per road segment on a synthetic city: every event near a road lands on its segment."""

from __future__ import annotations

import numpy as np

from precinct.analytics.events import from_arrays, project_wgs84
from precinct.analytics.segments import segment_counts


def test_events_on_segment_midpoints_count_there() -> None:
    from precinct.city.road import RoadGraph

    g = RoadGraph.synthetic(size_km=3, seed=1)
    edges = g.segment_edges[[5, 40, 40, 40, 300]]
    mid = (g.node_xy[g.tail[edges]] + g.node_xy[g.head[edges]]) / 2
    lat, lon = g.frame.to_latlon(mid[:, 0], mid[:, 1])
    lat = np.r_[lat, 33.5]  # one far from every road
    lon = np.r_[lon, 119.9]
    x, y, crs = project_wgs84(lat, lon)
    ev = from_arrays(x=x, y=y, ts=np.full(lat.size, np.datetime64("2026-11-23T00:00:00")), crs=crs)
    out = segment_counts(ev, g, max_distance_m=30)
    assert out["snapped"] == 5 and out["unsnapped"] == 1
    top = out["segments"][0]
    assert top["edge"] == int(edges[1]) and top["count"] == 3
    assert {r["edge"] for r in out["segments"]} == {int(e) for e in edges}
