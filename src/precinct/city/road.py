"""``RoadGraph``: the one object other modules ask about travel on the roads."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from precinct.city import routing
from precinct.city.ch import build_hierarchy, morton_key
from precinct.city.congestion import FACTORS, check_hour
from precinct.city.geo import FloatArray, check_latlon, check_points
from precinct.city.graph import IntArray, RoadGraphBase
from precinct.city.hierarchy import Hierarchy
from precinct.city.snapping import GridIndex, Snap, Snaps, snap_points
from precinct.errors import BadInput

if TYPE_CHECKING:
    from scipy.spatial import cKDTree
    from shapely.geometry.base import BaseGeometry

    from precinct.city.names import Candidate, NameIndex
    from precinct.city.routing import Route


def _check_limit(max_time_s: float | None) -> float | None:
    if max_time_s is None:
        return None
    try:
        v = float(max_time_s)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"max_time_s must be a number, got {max_time_s!r}") from exc
    if not v >= 0:
        raise BadInput(f"max_time_s must be zero or more, got {max_time_s!r}")
    return v


def _pair(p: tuple[float, float], what: str) -> tuple[float, float]:
    try:
        lat, lon = p
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{what} must be a (lat, lon) pair, got {p!r}") from exc
    return check_latlon(lat, lon, what=what)


class RoadGraph(RoadGraphBase):
    """A drivable road network with travel-time queries.

    Build one with :meth:`synthetic`, :meth:`from_osm` or :meth:`load`; in application code use
    :func:`precinct.city.service.current_city`. All coordinates are WGS84 ``(lat, lon)``
    degrees, all times seconds, all lengths metres. Unreachable or over-limit answers are
    ``numpy.inf`` in array results and :class:`~precinct.errors.Unreachable` for routes.
    """

    # -- builders ------------------------------------------------------------------------
    @classmethod
    def synthetic(cls, size_km: float = 15, seed: int = 1,
                  center: tuple[float, float] = (32.49, 119.92)) -> RoadGraph:
        """A synthetic city (rings, arterials, local grid, a river with bridges, slow centre).

        Parameters
        ----------
        size_km : float
            Side of the square city; about 310 directed edges per km² (15 km: 68k edges,
            58 km: 1.04M).
        seed : int
            Random seed (same seed, same city).
        center : tuple of float
            ``(lat, lon)`` of the city centre; default near Taizhou, Jiangsu.
        """
        from precinct.city.synthetic import build_synthetic

        return build_synthetic(cls, size_km=size_km, seed=seed, center=center)

    @classmethod
    def from_osm(cls, path: str | Path) -> RoadGraph:
        """The drivable network of an OpenStreetMap ``.osm.pbf`` extract.

        Raises
        ------
        NotFound
            If the file does not exist.
        BadInput
            If it is not a readable PBF file or holds no drivable roads.
        """
        from precinct.city.osm import build_from_osm

        return build_from_osm(cls, Path(path))

    @classmethod
    def load(cls, path: str | Path) -> RoadGraph:
        """Read a graph written by :meth:`save`."""
        g = super().load(path)
        assert isinstance(g, RoadGraph)
        return g

    # -- contraction hierarchy (speeds up free-flow one-to-many queries) -------------------
    @property
    def hierarchy(self) -> Hierarchy | None:
        """The contraction hierarchy for free-flow times, if prepared (see :meth:`prepare`)."""
        return self._stored_hierarchy(None)

    def _stored_hierarchy(self, hour: int | None) -> Hierarchy | None:
        prefix = "ch" if hour is None else f"ch{hour:02d}"
        cache: dict[str, Hierarchy | None] = self.__dict__.setdefault("_hierarchies", {})
        if prefix not in cache:
            h = Hierarchy.from_arrays(self.extras, prefix)
            cache[prefix] = h if h is not None and h.kpos.size == self.n_nodes else None
        return cache[prefix]

    def prepare(self, hours: Iterable[int] = ()) -> RoadGraph:
        """Build contraction hierarchies: free flow, and for each of ``hours`` (kept on save).

        One-to-many and many-to-one queries then run as (R)PHAST sweeps, exact and an order of
        magnitude faster than Dijkstra. Each hierarchy takes about 1.5 s for the default 15 km
        city and about two minutes for a million-edge graph; ``precinct city build`` makes the
        free-flow one (``--hours 8,18`` adds congested ones). Night hours whose congestion
        factors are all 1 share the free-flow hierarchy. Returns ``self``.
        """
        xy = self.node_xy
        key = morton_key(xy[:, 0], xy[:, 1])
        for hour in [None, *sorted({int(h) for h in hours})]:
            h = check_hour(hour)
            if h is not None and self._free_flow_hour(h):
                continue
            if self._stored_hierarchy(h) is None:
                prefix = "ch" if h is None else f"ch{h:02d}"
                built = build_hierarchy(self.n_nodes, self.tail, self.head,
                                        self.weights("time", h), node_key=key)
                self.extras.update(built.arrays(prefix))
                self.__dict__["_hierarchies"][prefix] = built
        return self

    def _free_flow_hour(self, hour: int) -> bool:
        return bool(np.all(FACTORS[:, hour] == 1.0))

    def _ch_for(self, hour: int | None) -> Hierarchy | None:
        h = check_hour(hour)
        if h is None or self._free_flow_hour(h):
            return self._stored_hierarchy(None)
        return self._stored_hierarchy(h)

    # -- spatial lookups -----------------------------------------------------------------
    @cached_property
    def _segment_index(self) -> GridIndex:
        return GridIndex(self)

    @cached_property
    def _node_tree(self) -> cKDTree:
        from scipy.spatial import cKDTree  # ~0.5 s to import; only nearest_nodes needs it

        return cKDTree(self.node_xy)

    def snap(self, lat: float, lon: float, *, what: str = "point") -> Snap:
        """Project a coordinate onto the nearest road segment.

        Raises
        ------
        BadInput
            If the coordinate is invalid or farther than ``max_snap_m`` from every road.
        """
        la, lo = check_latlon(lat, lon, what=what)
        return self.snap_many(np.array([[la, lo]]), what=what)[0]

    def snap_many(self, points: npt.ArrayLike, *, what: str = "point") -> Snaps:
        """Snap an ``(n, 2)`` array of lat/lon rows (see :meth:`snap`)."""
        arr = check_points(points, what=what)
        return snap_points(self, self._segment_index, arr[:, 0], arr[:, 1],
                           max_distance_m=self.max_snap_m, what=what)

    def nearest_nodes(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> IntArray:
        """Index of the nearest node to each coordinate (straight-line)."""
        arr = check_points(np.column_stack([np.ravel(lats), np.ravel(lons)]))
        x, y = self.frame.to_xy(arr[:, 0], arr[:, 1])
        _, idx = self._node_tree.query(np.column_stack([x, y]))
        return np.asarray(idx, dtype=np.int64)

    # -- travel times --------------------------------------------------------------------
    def travel_times_to(self, lat: float, lon: float, sources: npt.ArrayLike, *,
                        max_time_s: float | None = None, hour: int | None = None) -> FloatArray:
        """Driving seconds from each source to one target (the dispatch query).

        Parameters
        ----------
        lat, lon : float
            The target (an incident).
        sources : array_like, shape (n, 2)
            ``lat, lon`` rows (unit positions).
        max_time_s : float, optional
            Stop searching beyond this; such sources get ``inf``.
        hour : int, optional
            Hour of day 0-23 for congestion; ``None`` is free flow.

        Returns
        -------
        numpy.ndarray
            Seconds per source; ``inf`` where unreachable or beyond ``max_time_s``.
        """
        target = self.snap(lat, lon, what="target")
        srcs = self.snap_many(sources, what="source")
        limit = _check_limit(max_time_s)
        if len(srcs) == 0:
            return np.zeros(0)
        return routing.many_to_one(self, target, srcs, self.weights("time", hour), limit=limit,
                                   hierarchy=self._ch_for(hour))

    def travel_times_from(self, lat: float, lon: float, targets: npt.ArrayLike, *,
                          max_time_s: float | None = None, hour: int | None = None) -> FloatArray:
        """Driving seconds from one origin to each target (see :meth:`travel_times_to`)."""
        origin = self.snap(lat, lon, what="origin")
        tgts = self.snap_many(targets, what="target")
        limit = _check_limit(max_time_s)
        if len(tgts) == 0:
            return np.zeros(0)
        return routing.one_to_many(self, origin, tgts, self.weights("time", hour), limit=limit,
                                   hierarchy=self._ch_for(hour))

    def node_times_from(self, lat: float, lon: float, *, max_time_s: float | None = None,
                        reverse: bool = False, hour: int | None = None,
                        speed_mps: float | None = None) -> FloatArray:
        """Seconds from the point to every node (or, with ``reverse``, from every node to it).

        With ``speed_mps`` the cost is walking at that speed in any direction (one-way rules
        ignored, ``hour`` unused).
        """
        s = self.snap(lat, lon)
        limit = _check_limit(max_time_s)
        walk = speed_mps is not None
        w = self.weights("time", hour, speed_mps=speed_mps)
        if walk:
            adj, seeds = self.undirected, routing.leave_seeds(self, s, w, True)
        elif reverse:
            adj, seeds = self.reverse, routing.arrive_seeds(self, s, w, False)
        else:
            adj, seeds = self.forward, routing.leave_seeds(self, s, w, False)
        h = None if walk else self._ch_for(hour)
        if h is not None:
            keep = np.isfinite(seeds[1])
            dist = h.to_node(seeds[0][keep], seeds[1][keep], reverse=reverse)[h.kpos]
            if limit is not None:
                dist[dist > limit] = np.inf
            return dist
        dist, _ = routing.search(self, adj, w, *seeds, limit=limit)
        return dist

    def k_nearest_by_time(self, lat: float, lon: float, points: npt.ArrayLike, k: int, *,
                          max_time_s: float | None = None, hour: int | None = None,
                          ) -> list[tuple[int, float]]:
        """The ``k`` points with the shortest driving time *to* ``(lat, lon)``, fastest first.

        Returns
        -------
        list of (int, float)
            ``(index into points, seconds)``; unreachable points are left out, so the list may
            be shorter than ``k``.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
            raise BadInput(f"k must be a non-negative integer, got {k!r}")
        t = self.travel_times_to(lat, lon, points, max_time_s=max_time_s, hour=hour)
        if t.size == 0 or k == 0:
            return []
        kk = min(int(k), t.size)
        idx = np.argpartition(t, kk - 1)[:kk]
        idx = idx[np.lexsort((idx, t[idx]))]
        return [(int(i), float(t[i])) for i in idx if np.isfinite(t[i])]

    def route(self, from_latlon: tuple[float, float], to_latlon: tuple[float, float], *,
              metric: str = "time", hour: int | None = None) -> Route:
        """The fastest (``metric="time"``) or shortest (``"length"``) driving route.

        Raises
        ------
        BadInput
            Bad coordinates or metric, or a point far from any road.
        Unreachable
            If no road path exists (e.g. another component, or one-way streets forbid it).
        """
        o = self.snap(*_pair(from_latlon, "from"), what="from")
        d = self.snap(*_pair(to_latlon, "to"), what="to")
        w = self.weights(metric, hour)
        return routing.shortest_route(self, o, d, w, self.length_m, self.weights("time", hour))

    def isochrone(self, lat: float, lon: float, seconds: float, *, hour: int | None = None,
                  speed_mps: float | None = None, buffer_m: float | None = None,
                  ) -> BaseGeometry:
        """The area reachable from the point within ``seconds``, as a (Multi)Polygon in lon/lat.

        Driving by default; with ``speed_mps`` walking at that speed ignoring one-ways (missing
        persons). The polygon is the union of the reachable road pieces widened by ``buffer_m``
        (default: 60 m driving, 30 m walking), so it follows the roads rather than a convex hull.
        """
        from precinct.city.isochrone import isochrone

        return isochrone(self, lat, lon, seconds, hour=hour, speed_mps=speed_mps,
                         buffer_m=buffer_m)

    # -- drawing and names ---------------------------------------------------------------
    def edge_segments(self) -> dict[str, np.ndarray]:
        """Every physical segment once, as arrays (for maps).

        Returns
        -------
        dict
            ``lat1, lon1, lat2, lon2`` (float64), ``edge`` (id), ``oneway`` (bool),
            ``road_class`` (uint8), ``name_id`` (int32, -1 unnamed; see ``names``).
        """
        e = self.segment_edges
        t, h = self.tail[e], self.head[e]
        return {"lat1": self.node_lat[t], "lon1": self.node_lon[t], "lat2": self.node_lat[h],
                "lon2": self.node_lon[h], "edge": e, "oneway": self.twin[e] < 0,
                "road_class": self.road_class[e], "name_id": self.name_id[e]}

    def edges_geojson(self, *, min_class: int = 6) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of the segments with ``road_class <= min_class``.

        Each feature is a LineString with properties ``name``, ``class`` and ``oneway``.
        """
        from precinct.city.congestion import CLASS_NAMES

        s = self.edge_segments()
        keep = np.flatnonzero(s["road_class"] <= min_class)
        feats = []
        for i in keep.tolist():
            nid = int(s["name_id"][i])
            feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
                [round(float(s["lon1"][i]), 7), round(float(s["lat1"][i]), 7)],
                [round(float(s["lon2"][i]), 7), round(float(s["lat2"][i]), 7)]]},
                "properties": {"name": self.names[nid][0] if nid >= 0 else None,
                               "class": CLASS_NAMES[int(s["road_class"][i])],
                               "oneway": bool(s["oneway"][i])}})
        return {"type": "FeatureCollection", "features": feats}

    @cached_property
    def _name_index(self) -> NameIndex:
        from precinct.city.names import NameIndex

        return NameIndex(self)

    def names_index(self) -> NameIndex:
        """The street-name index (road names per edge, fuzzy lookup, junctions)."""
        return self._name_index

    def street_name(self, lat: float, lon: float) -> str | None:
        """Label of the road nearest to a coordinate (``"人民路 / Renmin Road"``), if named."""
        nid = int(self.name_id[self.snap(lat, lon).edge])
        return self._name_index.label(nid) if nid >= 0 else None

    def geocode(self, text: str, *, limit: int = 5) -> list[Candidate]:
        """Resolve a street or junction name to coordinates, best first.

        Accepts ``"人民路"``, ``"Renmin Road"``, ``"人民路与海陵路交叉口"``,
        ``"Renmin Rd & Hailing Rd"``; fuzzy (typos, missing suffixes). Returns
        ``Candidate(lat, lon, label, score)`` items with score 0-100, best first; an empty list
        when nothing matches well enough.
        """
        return self._name_index.geocode(text, limit=limit)
