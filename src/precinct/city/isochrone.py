"""Isochrones: the road area reachable within a time budget, as polygons."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from precinct.city import routing
from precinct.city.geo import check_latlon
from precinct.errors import BadInput

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from precinct.city.road import RoadGraph


def isochrone(graph: RoadGraph, lat: float, lon: float, seconds: float, *,
              hour: int | None = None, speed_mps: float | None = None,
              buffer_m: float | None = None) -> BaseGeometry:
    """Polygon (lon/lat, GeoJSON axis order) of the roads reachable within ``seconds``.

    Each edge whose start is reached at ``t < seconds`` contributes the part of it that the
    remaining budget covers, so the boundary falls part-way along streets rather than at the
    last node. The reachable pieces are widened by ``buffer_m`` and unioned.

    Parameters
    ----------
    graph : RoadGraph
        The network.
    lat, lon : float
        Origin.
    seconds : float
        Time budget, > 0.
    hour : int, optional
        Hour of day for driving congestion.
    speed_mps : float, optional
        Walk at this speed, ignoring one-way rules, instead of driving.
    buffer_m : float, optional
        Half-width of the road corridor; default 60 m driving, 30 m walking.

    Returns
    -------
    shapely Polygon or MultiPolygon
    """
    try:
        budget = float(seconds)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"seconds must be a number, got {seconds!r}") from exc
    if not (np.isfinite(budget) and budget > 0):
        raise BadInput(f"seconds must be a positive number, got {seconds!r}")
    la, lo = check_latlon(lat, lon)
    walk = speed_mps is not None
    width = float(buffer_m) if buffer_m is not None else (30.0 if walk else 60.0)
    if not width > 0:
        raise BadInput(f"buffer_m must be positive, got {buffer_m!r}")
    s = graph.snap(la, lo)
    w = graph.weights("time", hour, speed_mps=speed_mps)
    dist = graph.node_times_from(la, lo, max_time_s=budget, hour=hour, speed_mps=speed_mps)
    xy = graph.node_xy
    starts, ends, fracs = [], [], []
    pairs = [(graph.tail, graph.head)] + ([(graph.head, graph.tail)] if walk else [])
    for frm, to in pairs:
        d = dist[frm]
        ok = np.flatnonzero(d < budget)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(w[ok] > 0, (budget - d[ok]) / w[ok], 1.0)
        starts.append(xy[frm[ok]])
        ends.append(xy[to[ok]])
        fracs.append(np.clip(r, 0.0, 1.0))
    a = np.concatenate(starts)
    b = np.concatenate(ends)
    f = np.concatenate(fracs)[:, None]
    ox, oy = graph.frame.to_xy(s.lat, s.lon)
    origin = np.array([[float(ox), float(oy)]])
    # The origin's own segment, as far as the budget reaches from the snapped point.
    seeds_n, seeds_d = routing.leave_seeds(graph, s, w, walk)
    reach = []
    for node, cost in zip(seeds_n.tolist(), seeds_d.tolist(), strict=True):
        if np.isfinite(cost):
            frac = 1.0 if cost <= budget else budget / cost
            reach.append(origin[0] + frac * (xy[node] - origin[0]))
    pieces = np.stack([a, a + f * (b - a)], axis=1) if a.size else np.zeros((0, 2, 2))
    if reach:
        extra = np.stack([np.repeat(origin, len(reach), axis=0), np.array(reach)], axis=1)
        pieces = np.concatenate([pieces, extra])
    if pieces.shape[0] == 0:
        geom = shapely.Point(origin[0]).buffer(width)
    else:
        geom = shapely.multilinestrings(shapely.linestrings(pieces)).buffer(width, quad_segs=3)
    geom = geom.simplify(width / 4)

    def to_lonlat(coords: np.ndarray) -> np.ndarray:
        glat, glon = graph.frame.to_latlon(coords[:, 0], coords[:, 1])
        return np.column_stack([glon, glat])

    return shapely.transform(geom, to_lonlat)
