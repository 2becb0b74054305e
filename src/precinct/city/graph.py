"""The road graph: immutable arrays (nodes, CSR adjacency, per-edge length/time/class/name).

Every directed edge is a straight segment between two nodes (OSM ways are split at every node,
the synthetic city is built that way), so an edge's geometry is its two end points and a point
on the network is ``(edge, fraction)``. Edge ids are CSR slot order of the forward adjacency:
the out-edges of ``u`` are ``indptr[u]:indptr[u+1]``.

Derived structures (reverse adjacency, walking adjacency, spatial indexes) are built lazily on
first use and kept; the arrays themselves never change after construction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from precinct.city.congestion import factors_for
from precinct.city.geo import FloatArray, LocalFrame
from precinct.errors import BadInput, NotFound

FORMAT_VERSION = 1
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Adjacency:
    """A CSR view: neighbours of ``u`` are ``adj[indptr[u]:indptr[u+1]]`` via ``slot_edge``."""

    indptr: IntArray
    adj: IntArray
    slot_edge: IntArray


def _csr(n: int, src: IntArray, dst: IntArray, edge: IntArray) -> Adjacency:
    order = np.lexsort((dst, src))
    counts = np.bincount(src, minlength=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return _frozen(Adjacency(indptr, dst[order].astype(np.int64), edge[order].astype(np.int64)))


def _frozen(a: Adjacency) -> Adjacency:
    # Read-only arrays are a distinct numba type: keep every adjacency read-only so the search
    # kernel is compiled (and disk-cached) once, not once per mix of flags.
    for arr in (a.indptr, a.adj, a.slot_edge):
        arr.setflags(write=False)
    return a


class RoadGraphBase:
    """Storage, persistence and derived indexes of a road graph (queries live in ``RoadGraph``)."""

    max_snap_m: float = 2000.0

    def __init__(self, *, node_lat: FloatArray, node_lon: FloatArray, indptr: IntArray,
                 head: IntArray, length_m: FloatArray, time_s: FloatArray,
                 road_class: npt.NDArray[np.uint8], name_id: npt.NDArray[np.int32],
                 names: Sequence[Sequence[str]], meta: dict[str, Any] | None = None,
                 extras: dict[str, np.ndarray] | None = None) -> None:
        self._node_lat = np.ascontiguousarray(node_lat, dtype=np.float64)
        self._node_lon = np.ascontiguousarray(node_lon, dtype=np.float64)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.head = np.ascontiguousarray(head, dtype=np.int64)
        self.length_m = np.ascontiguousarray(length_m, dtype=np.float64)
        self.time_s = np.ascontiguousarray(time_s, dtype=np.float64)
        self.road_class = np.ascontiguousarray(road_class, dtype=np.uint8)
        self.name_id = np.ascontiguousarray(name_id, dtype=np.int32)
        self.names: tuple[tuple[str, ...], ...] = tuple(tuple(v) for v in names)
        self.meta: dict[str, Any] = dict(meta or {})
        self.extras: dict[str, np.ndarray] = dict(extras or {})
        n, m = self._node_lat.size, self.head.size
        if self.indptr.size != n + 1 or self.indptr[-1] != m or self._node_lon.size != n:
            raise BadInput("road graph arrays are inconsistent",
                           detail={"nodes": n, "edges": m, "indptr": int(self.indptr.size)})
        checks: tuple[tuple[str, np.ndarray], ...] = (
            ("length_m", self.length_m), ("time_s", self.time_s),
            ("road_class", self.road_class), ("name_id", self.name_id))
        for name, arr in checks:
            if arr.size != m:
                raise BadInput(f"road graph array {name} has {arr.size} values for {m} edges")
        if m and (not np.isfinite(self.time_s).all() or (self.time_s < 0).any()
                  or (self.length_m < 0).any()):
            raise BadInput("road graph has negative or non-finite edge costs")
        for arr in (self._node_lat, self._node_lon, self.indptr, self.head, self.length_m,
                    self.time_s, self.road_class, self.name_id):
            arr.setflags(write=False)
        self._weights: dict[tuple[str, int | None, float | None], FloatArray] = {}

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_edges(cls, *, node_lat: npt.ArrayLike, node_lon: npt.ArrayLike, tail: npt.ArrayLike,
                   head: npt.ArrayLike, length_m: npt.ArrayLike, time_s: npt.ArrayLike,
                   road_class: npt.ArrayLike | None = None, name_id: npt.ArrayLike | None = None,
                   names: Sequence[Sequence[str]] = (), meta: dict[str, Any] | None = None,
                   node_extras: dict[str, np.ndarray] | None = None) -> Any:
        """Build from an edge list (any order); edges are re-ordered into CSR slots.

        Parameters
        ----------
        node_lat, node_lon : array_like
            Node coordinates (WGS84 degrees).
        tail, head : array_like
            Node index of each directed edge's start and end.
        length_m, time_s : array_like
            Length (metres) and free-flow travel time (seconds) per edge.
        road_class, name_id : array_like, optional
            Class code (see ``congestion.CLASS_NAMES``) and index into ``names`` (-1 = unnamed).
        names : sequence of sequence of str
            Name variants per name id (e.g. ``("人民路", "Renmin Road")``).
        meta : dict, optional
            Provenance (source, file hash, size, seed) stored with the graph.
        node_extras : dict of numpy.ndarray, optional
            Per-node arrays kept with the graph (e.g. ``osm_node_id``), saved and loaded.
        """
        lat = np.asarray(node_lat, dtype=np.float64)
        t = np.asarray(tail, dtype=np.int64)
        h = np.asarray(head, dtype=np.int64)
        n, m = lat.size, t.size
        if h.size != m:
            raise BadInput("tail and head must have the same length")
        if m and (t.min() < 0 or h.min() < 0 or t.max() >= n or h.max() >= n):
            raise BadInput("edge endpoints must index the node arrays")
        rc = np.full(m, 5, np.uint8) if road_class is None else np.asarray(road_class, np.uint8)
        ni = np.full(m, -1, np.int32) if name_id is None else np.asarray(name_id, np.int32)
        order = np.lexsort((h, t))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(t, minlength=n), out=indptr[1:])
        return cls(node_lat=lat, node_lon=np.asarray(node_lon, dtype=np.float64), indptr=indptr,
                   head=h[order], length_m=np.asarray(length_m, np.float64)[order],
                   time_s=np.asarray(time_s, np.float64)[order], road_class=rc[order],
                   name_id=ni[order], names=names, meta=meta, extras=node_extras)

    # -- basic properties ------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self._node_lat.size)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.head.size)

    @property
    def node_lat(self) -> FloatArray:
        """Node latitudes (read-only)."""
        return self._node_lat

    @property
    def node_lon(self) -> FloatArray:
        """Node longitudes (read-only)."""
        return self._node_lon

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(min_lat, min_lon, max_lat, max_lon)``."""
        return (float(self._node_lat.min()), float(self._node_lon.min()),
                float(self._node_lat.max()), float(self._node_lon.max()))

    @cached_property
    def tail(self) -> IntArray:
        """Start node of each edge."""
        t = np.repeat(np.arange(self.n_nodes, dtype=np.int64), np.diff(self.indptr))
        t.setflags(write=False)
        return t

    @cached_property
    def twin(self) -> IntArray:
        """Id of the opposite-direction edge (``head -> tail``), or -1 for one-way segments."""
        n = max(self.n_nodes, 1)
        key = self.tail * n + self.head  # sorted ascending by CSR construction
        want = self.head * n + self.tail
        pos = np.searchsorted(key, want)
        pos = np.minimum(pos, max(key.size - 1, 0))
        ok = key[pos] == want if key.size else np.zeros(0, bool)
        out = np.where(ok, pos, -1).astype(np.int64)
        out.setflags(write=False)
        return out

    @cached_property
    def frame(self) -> LocalFrame:
        """The local metric projection centred on the network."""
        la0, lo0, la1, lo1 = self.bbox
        return LocalFrame((la0 + la1) / 2, (lo0 + lo1) / 2)

    @cached_property
    def node_xy(self) -> FloatArray:
        """Node positions in the local frame, shape ``(n, 2)`` metres."""
        x, y = self.frame.to_xy(self._node_lat, self._node_lon)
        return np.column_stack([x, y])

    @cached_property
    def forward(self) -> Adjacency:
        """Forward adjacency (out-edges), slot = edge id."""
        return _frozen(Adjacency(self.indptr, self.head, np.arange(self.n_edges, dtype=np.int64)))

    @cached_property
    def reverse(self) -> Adjacency:
        """Reverse adjacency (in-edges): neighbours of ``v`` are the tails of edges into ``v``."""
        e = np.arange(self.n_edges, dtype=np.int64)
        return _csr(self.n_nodes, self.head, self.tail, e)

    @cached_property
    def undirected(self) -> Adjacency:
        """Both directions of every edge (walking ignores one-way rules)."""
        e = np.arange(self.n_edges, dtype=np.int64)
        return _csr(self.n_nodes, np.concatenate([self.tail, self.head]),
                    np.concatenate([self.head, self.tail]), np.concatenate([e, e]))

    @cached_property
    def segment_edges(self) -> IntArray:
        """One edge id per physical segment (a two-way street's pair counted once)."""
        e = np.arange(self.n_edges, dtype=np.int64)
        return e[(self.twin < 0) | (e < self.twin)]

    def weights(self, metric: str = "time", hour: int | None = None,
                speed_mps: float | None = None) -> FloatArray:
        """Cost per edge for a metric: ``time`` (optionally at ``hour``), ``length``, or walking.

        With ``speed_mps`` the cost is ``length / speed_mps`` (walking time, any direction).
        """
        if speed_mps is not None:
            if not (np.isfinite(speed_mps) and speed_mps > 0):
                raise BadInput(f"speed_mps must be a positive number, got {speed_mps!r}")
            key: tuple[str, int | None, float | None] = ("walk", None, float(speed_mps))
        elif metric == "length":
            key = ("length", None, None)
        elif metric == "time":
            key = ("time", hour, None)
        else:
            raise BadInput(f"metric must be 'time' or 'length', got {metric!r}")
        w = self._weights.get(key)
        if w is None:
            if key[0] == "walk":
                w = self.length_m / float(speed_mps or 1.0)
            elif key[0] == "length":
                w = self.length_m
            else:
                w = self.time_s * factors_for(self.road_class, hour)
            w = np.ascontiguousarray(w, dtype=np.float64)
            w.setflags(write=False)
            if len(self._weights) > 32:  # 24 hours + a few speeds; never unbounded
                self._weights.clear()
            self._weights[key] = w
        return w

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the graph as an uncompressed ``.npz`` (loads in well under a second).

        Parameters
        ----------
        path : str or Path
            Target file; ``.npz`` is appended by numpy if missing.
        """
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        header = {"format": FORMAT_VERSION, "names": [list(v) for v in self.names],
                  "meta": self.meta}
        blob = np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), dtype=np.uint8)
        tmp = p.with_name(p.name + ".tmp.npz")
        np.savez(tmp, header=blob, node_lat=self._node_lat, node_lon=self._node_lon,
                 indptr=self.indptr, head=self.head, length_m=self.length_m, time_s=self.time_s,
                 road_class=self.road_class, name_id=self.name_id,
                 **{f"x_{k}": v for k, v in self.extras.items()})  # type: ignore[arg-type]
        final = p if p.suffix == ".npz" else p.with_name(p.name + ".npz")
        tmp.replace(final)
        return final

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Read a graph written by :meth:`save`.

        Raises
        ------
        NotFound
            If the file does not exist.
        BadInput
            If it is not a Precinct road graph.
        """
        p = Path(path)
        if not p.exists():
            raise NotFound(f"no road graph at {p}", detail={"path": str(p)})
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            header = json.loads(arrays.pop("header").tobytes().decode())
        except (OSError, ValueError, KeyError) as exc:
            raise BadInput(f"{p} is not a Precinct road graph: {exc}") from exc
        if header.get("format") != FORMAT_VERSION:
            raise BadInput(f"{p} has road graph format {header.get('format')}, "
                           f"this version reads {FORMAT_VERSION}; rebuild it")
        extras = {k[2:]: arrays.pop(k) for k in list(arrays) if k.startswith("x_")}
        return cls(names=header["names"], meta=header.get("meta", {}), extras=extras, **arrays)
