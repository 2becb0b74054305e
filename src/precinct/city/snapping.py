"""Snapping coordinates onto the nearest road segment (projection, not nearest node)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from precinct.city.geo import FloatArray
from precinct.errors import BadInput

if TYPE_CHECKING:
    from precinct.city.graph import IntArray, RoadGraphBase


@dataclass(frozen=True)
class Snap:
    """A point on the network: ``fraction`` of the way along directed ``edge`` (tail to head).

    ``distance_m`` is how far the asked-for coordinate lies from the road; ``lat``/``lon`` is the
    snapped position on the road.
    """

    edge: int
    fraction: float
    distance_m: float
    lat: float
    lon: float


@dataclass(frozen=True)
class Snaps:
    """Many snaps as arrays (the batch form used by one-to-many queries)."""

    edge: IntArray
    fraction: FloatArray
    distance_m: FloatArray
    lat: FloatArray
    lon: FloatArray

    def __len__(self) -> int:
        return int(self.edge.size)

    def __getitem__(self, i: int) -> Snap:
        return Snap(int(self.edge[i]), float(self.fraction[i]), float(self.distance_m[i]),
                    float(self.lat[i]), float(self.lon[i]))


def build_segment_tree(graph: RoadGraphBase) -> shapely.STRtree:
    """An R-tree over every physical segment, in the graph's local metric frame."""
    seg = graph.segment_edges
    xy = graph.node_xy
    coords = np.stack([xy[graph.tail[seg]], xy[graph.head[seg]]], axis=1)
    return shapely.STRtree(shapely.linestrings(coords))


PIECE_M = 40.0
CANDIDATES = 8


class PieceIndex:
    """KD-tree over the midpoints of short pieces (<= ``PIECE_M``) of every segment.

    Why not only the R-tree: ``STRtree.query_nearest`` costs ~0.1 ms a point, too slow for
    snapping a thousand units per dispatch query. A point's nearest segment has a piece
    midpoint within ``d + PIECE_M / 2`` of it, so the ``CANDIDATES`` nearest midpoints decide
    the answer whenever the best exact distance is at most ``r_k - PIECE_M / 2`` (``r_k`` the
    farthest candidate midpoint); the rare rows where that bound fails go to the R-tree.
    """

    def __init__(self, graph: RoadGraphBase) -> None:
        from scipy.spatial import cKDTree

        seg = graph.segment_edges
        a = graph.node_xy[graph.tail[seg]]
        b = graph.node_xy[graph.head[seg]]
        length = np.hypot(*(b - a).T)
        k = np.maximum(np.ceil(length / PIECE_M).astype(np.int64), 1)
        owner = np.repeat(np.arange(seg.size), k)
        start = np.repeat(np.cumsum(k) - k, k)
        f = ((np.arange(int(k.sum())) - start) + 0.5) / k[owner]
        mids = a[owner] + f[:, None] * (b[owner] - a[owner])
        self.owner = owner
        self.tree = cKDTree(mids)
        self.kq = min(CANDIDATES, mids.shape[0])

    def nearest(self, graph: RoadGraphBase, x: FloatArray, y: FloatArray
                ) -> tuple[IntArray, FloatArray, np.ndarray]:
        """Best segment index per point, its exact distance, and rows needing the R-tree."""
        p = np.column_stack([x, y])
        r, idx = self.tree.query(p, k=self.kq)
        r = r.reshape(p.shape[0], -1)
        idx = idx.reshape(p.shape[0], -1)
        segs = self.owner[idx]
        edge = graph.segment_edges[segs]
        a = graph.node_xy[graph.tail[edge]]
        ab = graph.node_xy[graph.head[edge]] - a
        den = np.einsum("ijk,ijk->ij", ab, ab)
        t = np.einsum("ijk,ijk->ij", p[:, None, :] - a, ab) / np.where(den > 0, den, 1.0)
        t = np.clip(np.where(den > 0, t, 0.0), 0.0, 1.0)
        q = a + t[..., None] * ab
        d = np.hypot(p[:, None, 0] - q[..., 0], p[:, None, 1] - q[..., 1])
        j = np.argmin(d, axis=1)
        rows = np.arange(p.shape[0])
        best = d[rows, j]
        unsure = best > r[:, -1] - PIECE_M / 2
        if self.kq < CANDIDATES:  # fewer pieces than candidates: all were examined
            unsure[:] = False
        return segs[rows, j], best, unsure


def snap_points(graph: RoadGraphBase, tree: shapely.STRtree, lat: FloatArray, lon: FloatArray,
                *, max_distance_m: float, what: str = "point",
                pieces: PieceIndex | None = None) -> Snaps:
    """Project points onto their nearest segments.

    Parameters
    ----------
    graph : RoadGraphBase
        The network.
    tree : shapely.STRtree
        From :func:`build_segment_tree` on the same graph.
    lat, lon : numpy.ndarray
        Coordinates to snap (validated by the caller).
    max_distance_m : float
        Points farther than this from every road are refused.
    what : str
        Name used in error messages.

    Returns
    -------
    Snaps

    Raises
    ------
    BadInput
        If any point is farther than ``max_distance_m`` from the network.
    """
    n = lat.size
    if graph.n_edges == 0:
        raise BadInput("the road graph has no roads to snap to")
    x, y = graph.frame.to_xy(lat, lon)
    seg_of = np.full(n, -1, dtype=np.int64)
    if pieces is not None and n:
        seg, best, unsure = pieces.nearest(graph, x, y)
        ok = ~unsure & (best <= max_distance_m)
        seg_of[ok] = seg[ok]
        rest = np.flatnonzero(~ok)
    else:
        rest = np.arange(n)
    if rest.size:
        pts = shapely.points(x[rest], y[rest])
        idx, _ = tree.query_nearest(pts, max_distance=max_distance_m, return_distance=True,
                                    all_matches=False)
        seg_of[rest[idx[0]]] = idx[1]  # all_matches=False: each point appears at most once
    missing = np.flatnonzero(seg_of < 0)
    if missing.size:
        i = int(missing[0])
        raise BadInput(
            f"{what} ({lat[i]:.6f}, {lon[i]:.6f}) is more than {max_distance_m:.0f} m from any "
            "road of this city",
            detail={"row": i, "lat": float(lat[i]), "lon": float(lon[i]),
                    "max_snap_m": max_distance_m, "rows_off_network": int(missing.size)})
    edge = graph.segment_edges[seg_of]
    a = graph.node_xy[graph.tail[edge]]
    b = graph.node_xy[graph.head[edge]]
    ab = b - a
    p = np.column_stack([x, y])
    den = np.einsum("ij,ij->i", ab, ab)
    t = np.where(den > 0, np.einsum("ij,ij->i", p - a, ab) / np.where(den > 0, den, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    q = a + t[:, None] * ab
    d = np.hypot(p[:, 0] - q[:, 0], p[:, 1] - q[:, 1])
    qlat, qlon = graph.frame.to_latlon(q[:, 0], q[:, 1])
    return Snaps(edge, t, d, qlat, qlon)
