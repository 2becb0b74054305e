"""Snapping coordinates onto the nearest road segment (projection, not nearest node)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

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


CELL_M = 100.0
MAX_CELLS_PER_SIDE = 4000


@njit(cache=True, nogil=True)  # no GIL: API worker threads query in parallel
def _grid_nearest(px: FloatArray, py: FloatArray, coords: FloatArray, x0: float, y0: float,
                  cell: float, ncols: int, nrows: int, cell_ptr: np.ndarray,
                  cell_seg: np.ndarray, max_d: float) -> tuple[np.ndarray, FloatArray, FloatArray]:
    n = px.size
    seg_out = np.full(n, -1, np.int64)
    t_out = np.zeros(n)
    d_out = np.full(n, np.inf)
    rmax = int(max_d / cell) + 2
    for k in range(n):
        ci = int(np.floor((px[k] - x0) / cell))
        cj = int(np.floor((py[k] - y0) / cell))
        # Distance from the point to its own cell's border: every cell outside ring r lies
        # at least r * cell + gap away.
        fx = px[k] - (x0 + ci * cell)
        fy = py[k] - (y0 + cj * cell)
        gap = min(fx, cell - fx, fy, cell - fy)
        if gap < 0.0:
            gap = 0.0
        best = np.inf
        bseg = -1
        bt = 0.0
        for r in range(rmax + 1):
            for dj in range(-r, r + 1):
                j = cj + dj
                if j < 0 or j >= nrows:
                    continue
                step = 1 if (dj == -r or dj == r) else 2 * r
                if step == 0:
                    step = 1
                di = -r
                while di <= r:
                    i = ci + di
                    if 0 <= i < ncols:
                        c = j * ncols + i
                        for q in range(cell_ptr[c], cell_ptr[c + 1]):
                            sg = cell_seg[q]
                            sx = coords[q, 0]
                            sy = coords[q, 1]
                            ux = coords[q, 2] - sx
                            uy = coords[q, 3] - sy
                            den = ux * ux + uy * uy
                            t = 0.0
                            if den > 0:
                                t = ((px[k] - sx) * ux + (py[k] - sy) * uy) / den
                                t = min(1.0, max(0.0, t))
                            dx = px[k] - (sx + t * ux)
                            dy = py[k] - (sy + t * uy)
                            d = np.sqrt(dx * dx + dy * dy)
                            if d < best or (d == best and sg < bseg):
                                best = d
                                bseg = sg
                                bt = t
                    di += step
            # Every cell not yet visited lies farther than r * cell + gap from the point.
            if best < r * cell + gap or r * cell > max_d:
                break
        if best <= max_d:
            seg_out[k] = bseg
            t_out[k] = bt
            d_out[k] = best
    return seg_out, t_out, d_out


class GridIndex:
    """Uniform grid of square cells listing the segments whose bounding box touches each cell.

    Why not an R-tree: ``shapely.STRtree.query_nearest`` costs ~0.1 ms per point, which made
    snapping a thousand units the slowest part of a dispatch query. The ring search below is
    exact (it stops only when no unvisited cell can hold anything nearer) and costs a few
    microseconds per point.
    """

    def __init__(self, graph: RoadGraphBase) -> None:
        seg = graph.segment_edges
        a = graph.node_xy[graph.tail[seg]]
        b = graph.node_xy[graph.head[seg]]
        self.ax, self.ay = np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1])
        self.bx, self.by = np.ascontiguousarray(b[:, 0]), np.ascontiguousarray(b[:, 1])
        xy = graph.node_xy
        self.x0 = float(xy[:, 0].min()) - 1.0
        self.y0 = float(xy[:, 1].min()) - 1.0
        extent = max(float(xy[:, 0].max()) - self.x0, float(xy[:, 1].max()) - self.y0, 1.0)
        self.cell = max(CELL_M, extent / MAX_CELLS_PER_SIDE)
        self.ncols = int((float(xy[:, 0].max()) - self.x0) / self.cell) + 1
        self.nrows = int((float(xy[:, 1].max()) - self.y0) / self.cell) + 1
        i0 = np.floor((np.minimum(self.ax, self.bx) - self.x0) / self.cell).astype(np.int64)
        i1 = np.floor((np.maximum(self.ax, self.bx) - self.x0) / self.cell).astype(np.int64)
        j0 = np.floor((np.minimum(self.ay, self.by) - self.y0) / self.cell).astype(np.int64)
        j1 = np.floor((np.maximum(self.ay, self.by) - self.y0) / self.cell).astype(np.int64)
        wi, wj = i1 - i0 + 1, j1 - j0 + 1
        cnt = wi * wj
        owner = np.repeat(np.arange(seg.size), cnt)
        off = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        ci = i0[owner] + off % wi[owner]
        cj = j0[owner] + off // wi[owner]
        cid = cj * self.ncols + ci
        order = np.argsort(cid, kind="stable")
        self.cell_seg = owner[order].astype(np.int64)
        # Each cell entry carries its segment's end points, so a cell is one contiguous read
        # (separate coordinate arrays cost four cache misses per segment on big graphs).
        self.coords = np.ascontiguousarray(np.column_stack(
            [self.ax, self.ay, self.bx, self.by])[self.cell_seg])
        self.cell_ptr = np.zeros(self.ncols * self.nrows + 1, np.int64)
        np.cumsum(np.bincount(cid, minlength=self.ncols * self.nrows), out=self.cell_ptr[1:])

    def nearest(self, x: FloatArray, y: FloatArray, max_d: float
                ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Nearest segment index (-1 beyond ``max_d``), fraction along it, distance."""
        return _grid_nearest(np.ascontiguousarray(x, np.float64),
                             np.ascontiguousarray(y, np.float64), self.coords, self.x0,
                             self.y0, self.cell, self.ncols, self.nrows, self.cell_ptr,
                             self.cell_seg, float(max_d))


def snap_points(graph: RoadGraphBase, index: GridIndex, lat: FloatArray, lon: FloatArray,
                *, max_distance_m: float, what: str = "point") -> Snaps:
    """Project points onto their nearest segments.

    Parameters
    ----------
    graph : RoadGraphBase
        The network.
    index : GridIndex
        Built on the same graph.
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
    if graph.n_edges == 0:
        raise BadInput("the road graph has no roads to snap to")
    x, y = graph.frame.to_xy(lat, lon)
    seg, t, d = index.nearest(x, y, max_distance_m)
    missing = np.flatnonzero(seg < 0)
    if missing.size:
        i = int(missing[0])
        raise BadInput(
            f"{what} ({lat[i]:.6f}, {lon[i]:.6f}) is more than {max_distance_m:.0f} m from any "
            "road of this city",
            detail={"row": i, "lat": float(lat[i]), "lon": float(lon[i]),
                    "max_snap_m": max_distance_m, "rows_off_network": int(missing.size)})
    edge = graph.segment_edges[seg]
    a = graph.node_xy[graph.tail[edge]]
    q = a + t[:, None] * (graph.node_xy[graph.head[edge]] - a)
    qlat, qlon = graph.frame.to_latlon(q[:, 0], q[:, 1])
    return Snaps(edge, t, d, qlat, qlon)
