"""Point-to-point, one-to-many and many-to-one travel costs between snapped points.

A snapped point sits ``f`` of the way along edge ``e = (u -> v)``. Leaving it costs
``(1 - f) * w[e]`` to reach ``v`` and, where the street is two-way (``e`` has a twin
``v -> u``), ``f * w[twin]`` to reach ``u``. Arriving at it is the mirror image. Searches are
seeded with those offsets, so results are exact along the segment, not rounded to a node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from precinct.city import kernels
from precinct.city.geo import FloatArray
from precinct.city.snapping import Snap, Snaps
from precinct.errors import Unreachable

if TYPE_CHECKING:
    from precinct.city.graph import Adjacency, IntArray, RoadGraphBase
    from precinct.city.hierarchy import Hierarchy

_NO_STOP = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Route:
    """A route: total length (m), travel time (s) and the path as ``[(lat, lon), ...]``."""

    length_m: float
    time_s: float
    path: list[tuple[float, float]]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``{"length_m", "time_s", "path": [[lat, lon], ...]}``."""
        return {"length_m": round(self.length_m, 3), "time_s": round(self.time_s, 3),
                "path": [[round(a, 7), round(b, 7)] for a, b in self.path]}


def _back_weight(graph: RoadGraphBase, w: FloatArray, edge: IntArray, walk: bool) -> FloatArray:
    """Cost of traversing each edge's segment backwards (``inf`` where one-way)."""
    if walk:
        return w[edge]
    tw = graph.twin[edge]
    return np.where(tw >= 0, w[np.maximum(tw, 0)], np.inf)


def _part(frac: FloatArray | float, cost: FloatArray | float) -> FloatArray:
    """``frac * cost`` where zero distance costs nothing, even against a one-way street.

    A point at fraction 0 of a one-way edge *is* its tail node, so "going back" to the tail is
    free; anywhere else an impossible (``inf``) direction stays ``inf``.
    """
    c = np.asarray(cost, dtype=np.float64)
    f = np.asarray(frac, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(f <= 0.0, 0.0, f * c)


def search(graph: RoadGraphBase, adj: Adjacency, w: FloatArray, seed_nodes: IntArray,
           seed_dist: FloatArray, *, limit: float | None = None,
           stop_nodes: IntArray | None = None, want_pred: bool = False,
           ) -> tuple[FloatArray, IntArray]:
    """Run the compiled multi-seed Dijkstra (see :func:`kernels.dijkstra`)."""
    keep = np.isfinite(seed_dist)
    return kernels.dijkstra(adj.indptr, adj.adj, adj.slot_edge, w,
                            np.ascontiguousarray(seed_nodes[keep], dtype=np.int64),
                            np.ascontiguousarray(seed_dist[keep], dtype=np.float64),
                            np.inf if limit is None else float(limit),
                            _NO_STOP if stop_nodes is None else np.ascontiguousarray(
                                stop_nodes, dtype=np.int64), want_pred)


def leave_seeds(graph: RoadGraphBase, s: Snap, w: FloatArray, walk: bool
                ) -> tuple[IntArray, FloatArray]:
    """Seeds of a forward search that starts at ``s``."""
    e = np.array([s.edge])
    back = _back_weight(graph, w, e, walk)[0]
    nodes = np.array([graph.head[s.edge], graph.tail[s.edge]], dtype=np.int64)
    return nodes, np.array([(1.0 - s.fraction) * w[s.edge], float(_part(s.fraction, back))])


def arrive_seeds(graph: RoadGraphBase, s: Snap, w: FloatArray, walk: bool
                 ) -> tuple[IntArray, FloatArray]:
    """Seeds of a reverse search that ends at ``s``."""
    e = np.array([s.edge])
    back = _back_weight(graph, w, e, walk)[0]
    nodes = np.array([graph.tail[s.edge], graph.head[s.edge]], dtype=np.int64)
    return nodes, np.array([s.fraction * w[s.edge], float(_part(1.0 - s.fraction, back))])


def _direct(graph: RoadGraphBase, w: FloatArray, walk: bool, e_from: int, f_from: float,
            pts: Snaps) -> FloatArray:
    """Cost along the shared segment when a point lies on the same segment as ``e_from``."""
    out = np.full(len(pts), np.inf)
    same = np.flatnonzero(pts.edge == e_from)
    if same.size:
        f = pts.fraction[same]
        fwd = np.where(f >= f_from, (f - f_from) * w[e_from], np.inf)
        back = _back_weight(graph, w, np.array([e_from]), walk)[0]
        bwd = np.where(f <= f_from, _part(f_from - f, back), np.inf)
        out[same] = np.minimum(fwd, bwd)
    return out


def _node_costs(graph: RoadGraphBase, adj: Adjacency, w: FloatArray,
                seeds: tuple[IntArray, FloatArray], nodes: IntArray, limit: float | None,
                hierarchy: Hierarchy | None, reverse: bool) -> FloatArray:
    """Cost from the seeds to each of ``nodes`` (``reverse``: from each node to the seeds)."""
    keep = np.isfinite(seeds[1])
    if hierarchy is not None:
        return hierarchy.to_targets(seeds[0][keep], seeds[1][keep], nodes, reverse=reverse)
    dist, _ = search(graph, adj, w, *seeds, limit=limit, stop_nodes=np.unique(nodes))
    return dist[nodes]


def one_to_many(graph: RoadGraphBase, origin: Snap, targets: Snaps, w: FloatArray, *,
                walk: bool = False, limit: float | None = None,
                hierarchy: Hierarchy | None = None) -> FloatArray:
    """Cost from ``origin`` to every target (``inf`` where unreachable or over ``limit``).

    ``hierarchy`` (built for exactly the weights ``w``) switches the search to RPHAST.
    """
    adj = graph.undirected if walk else graph.forward
    seeds = leave_seeds(graph, origin, w, walk)
    e = targets.edge
    cost = _node_costs(graph, adj, w, seeds, np.concatenate([graph.tail[e], graph.head[e]]),
                       limit, hierarchy, reverse=False)
    via_tail = cost[: e.size] + targets.fraction * w[e]
    via_head = cost[e.size:] + _part(1.0 - targets.fraction, _back_weight(graph, w, e, walk))
    out = np.minimum(np.minimum(via_tail, via_head),
                     _direct(graph, w, walk, origin.edge, origin.fraction, targets))
    if limit is not None:
        out[out > limit] = np.inf
    return out


def many_to_one(graph: RoadGraphBase, target: Snap, sources: Snaps, w: FloatArray, *,
                walk: bool = False, limit: float | None = None,
                hierarchy: Hierarchy | None = None) -> FloatArray:
    """Cost from every source to ``target`` (``inf`` where unreachable or over ``limit``).

    ``hierarchy`` (built for exactly the weights ``w``) switches the search to RPHAST.
    """
    adj = graph.undirected if walk else graph.reverse
    seeds = arrive_seeds(graph, target, w, walk)
    e = sources.edge
    cost = _node_costs(graph, adj, w, seeds, np.concatenate([graph.tail[e], graph.head[e]]),
                       limit, hierarchy, reverse=True)
    via_head = (1.0 - sources.fraction) * w[e] + cost[e.size:]
    via_tail = _part(sources.fraction, _back_weight(graph, w, e, walk)) + cost[: e.size]
    # A source on the target's own segment: the direct run is target-from-source.
    direct = np.full(len(sources), np.inf)
    same = np.flatnonzero(e == target.edge)
    if same.size:
        f = sources.fraction[same]
        fwd = np.where(f <= target.fraction, (target.fraction - f) * w[target.edge], np.inf)
        back = _back_weight(graph, w, np.array([target.edge]), walk)[0]
        bwd = np.where(f >= target.fraction, _part(f - target.fraction, back), np.inf)
        direct[same] = np.minimum(fwd, bwd)
    out = np.minimum(np.minimum(via_head, via_tail), direct)
    if limit is not None:
        out[out > limit] = np.inf
    return out


def shortest_route(graph: RoadGraphBase, o: Snap, d: Snap, w: FloatArray, lengths: FloatArray,
                   times: FloatArray) -> Route:
    """Cheapest route under ``w``, reporting its length and time (under ``times``).

    Raises
    ------
    Unreachable
        If no road path leads from ``o`` to ``d``.
    """
    seeds = leave_seeds(graph, o, w, False)
    stop = np.array([graph.tail[d.edge], graph.head[d.edge]], dtype=np.int64)
    dist, pred = search(graph, graph.forward, w, *seeds, stop_nodes=stop, want_pred=True)
    tw = int(graph.twin[d.edge])
    via_tail = dist[graph.tail[d.edge]] + d.fraction * w[d.edge]
    via_head = dist[graph.head[d.edge]] + float(_part(1 - d.fraction, w[tw] if tw >= 0 else np.inf))
    single = Snaps(np.array([d.edge]), np.array([d.fraction]), np.zeros(1), np.zeros(1),
                   np.zeros(1))
    direct = float(_direct(graph, w, False, o.edge, o.fraction, single)[0])
    best = min(via_tail, via_head, direct)
    if not np.isfinite(best):
        raise Unreachable(
            f"no road path from ({o.lat:.6f}, {o.lon:.6f}) to ({d.lat:.6f}, {d.lon:.6f})",
            detail={"from": [o.lat, o.lon], "to": [d.lat, d.lon]})
    start, end = (o.lat, o.lon), (d.lat, d.lon)
    if direct <= best:
        frac = abs(d.fraction - o.fraction)
        e = o.edge if d.fraction >= o.fraction else int(graph.twin[o.edge])
        return Route(frac * lengths[e], frac * times[e], [start, end])
    if via_tail <= via_head:
        node, last_edge, last_frac = int(graph.tail[d.edge]), d.edge, d.fraction
    else:
        node, last_edge, last_frac = int(graph.head[d.edge]), tw, 1 - d.fraction
    edges: list[int] = []
    while pred[node] >= 0:
        e = int(pred[node])
        edges.append(e)
        node = int(graph.tail[e])
    edges.reverse()
    if node == graph.head[o.edge]:
        first_edge, first_frac = o.edge, 1 - o.fraction
    else:
        first_edge, first_frac = int(graph.twin[o.edge]), o.fraction
    ids = np.array(edges, dtype=np.int64)
    length, time = float(lengths[ids].sum()), float(times[ids].sum())
    # A zero fraction may sit on a one-way edge's missing twin (id -1): it adds nothing.
    for e, f in ((first_edge, first_frac), (last_edge, last_frac)):
        if f > 0:
            length += f * lengths[e]
            time += f * times[e]
    nodes = [node, *graph.head[ids].tolist()]
    path = [start, *zip(graph.node_lat[nodes].tolist(), graph.node_lon[nodes].tolist(),
                        strict=True), end]
    return Route(float(length), float(time), path)
