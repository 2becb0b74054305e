"""In-memory presence index: days a vehicle was seen in an area, for thousands of vehicles at once.

The association's rarity needs, for every candidate vehicle, the number of whole days in the
``lookback_days`` before the window's day on which it was read in a grid cell whose centre lies
within the radius (see :mod:`precinct.anpr.presence`). A SQL join of the candidates against the
presence table reads a third of the city's history; this index is laid out per vehicle instead:

* rows ``(vehicle id, cell, block)`` with a 64-bit mask of the days ``block * 64 + bit`` it was
  seen, sorted by vehicle id, so one vehicle's history is one contiguous slice, found by array
  lookup (``starts[vid]``, ``stops[vid]``);
* the vehicle dictionary (``anpr_vehicles``): plate by id, for the answers.

A query decides which cells are inside the circle (haversine on the few thousand distinct cell
centres, not per row), then one compiled pass (numba) over the candidates' slices ORs each row's
day mask, limited to the look-back, into its (vehicle, block) word; NumPy counts the bits. The index follows the
warehouse: each query checks ``anpr_presence_state`` and loads only the presence rows added
since (by ingest batch); an erasure (retention) rebuilds it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from precinct.anpr import presence
from precinct.core.warehouse import Warehouse

EARTH_KM = 6371.0088
BLOCK = 64
_LOCK = threading.Lock()
_INDEXES: dict[int, PresenceIndex] = {}


_KERNEL: Any = None


def _kernel() -> Any:
    """The scan of the candidates' slices, compiled with numba on first use (cached on disk)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=True, nogil=True)
        def scan(owner, starts, stops, code, block, mask, in_area, window, b0, nb, acc):  # type: ignore[no-untyped-def]
            for i in range(len(owner)):
                base = owner[i] * nb
                for r in range(starts[i], stops[i]):
                    b = block[r] - b0
                    if 0 <= b < nb and in_area[code[r]]:
                        acc[base + b] |= mask[r] & window[b]

        _KERNEL = scan
    return _KERNEL


def haversine_km(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance (same formula and radius as the SQL's ``distance_km``)."""
    a = (
        np.sin(np.radians(lat - lat0) / 2.0) ** 2
        + np.cos(np.radians(lat0)) * np.cos(np.radians(lat)) * np.sin(np.radians(lon - lon0) / 2.0) ** 2
    )
    out: np.ndarray = 2.0 * EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return out


@dataclass
class _Part:
    """One sorted slice set: vehicle id -> rows [start, stop) of (cell code, block, mask)."""

    starts: np.ndarray  # int64, indexed by vid (rows of vids above the part's range: none)
    stops: np.ndarray
    code: np.ndarray  # int32 index into PresenceIndex.cells
    block: np.ndarray  # int32
    mask: np.ndarray  # uint64

    @property
    def rows(self) -> int:
        return len(self.code)

    def slices(self, vids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(positions in ``vids`` with rows here, their starts, their stops)."""
        inside = np.flatnonzero(vids < len(self.starts))
        v = vids[inside]
        keep = self.stops[v] > self.starts[v]
        return inside[keep], self.starts[v[keep]], self.stops[v[keep]]


@dataclass
class PresenceIndex:
    """The per-vehicle presence of one warehouse, and its vehicle dictionary (module docstring)."""

    wh: Warehouse
    version: int = -1
    epoch: int = -1
    max_batch: int = -1
    cells: dict[tuple[int, int], int] = field(default_factory=dict)
    cell_lat: np.ndarray = field(default_factory=lambda: np.empty(0))
    cell_lon: np.ndarray = field(default_factory=lambda: np.empty(0))
    parts: list[_Part] = field(default_factory=list)
    #: plate of each vehicle id (None for ids no longer used)
    plates: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))
    #: per vehicle id: -1, or a slot while an area scan runs (see :mod:`precinct.anpr.areascan`)
    scratch: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- loading ---------------------------------------------------------------------------

    def _load(self, after_batch: int) -> _Part | None:
        """The presence rows of batches after ``after_batch`` (-1: all), as a part of the index."""
        t = self.wh.query_arrow(
            f"SELECT vid, cy, cx, (day // {BLOCK})::INTEGER AS block, "  # noqa: S608 - constant names; batch bound
            f"bit_or((1::UBIGINT) << (day % {BLOCK})::UBIGINT) AS mask "
            f"FROM {presence.PRESENCE} WHERE batch > ? GROUP BY vid, cy, cx, block ORDER BY vid",
            [int(after_batch)],
        )
        if t.num_rows == 0:
            return None
        cy = t.column("cy").to_numpy()
        cx = t.column("cx").to_numpy()
        # a code per distinct cell, shared by all parts
        uniq = np.unique(np.stack([cy, cx], axis=1), axis=0)
        for y, x in uniq.tolist():
            if (y, x) not in self.cells:
                self.cells[(y, x)] = len(self.cells)
        keys = np.array(list(self.cells.keys()), dtype=np.int64).reshape(-1, 2)
        self.cell_lat = (keys[:, 0] + 0.5) / presence.CELLS_PER_DEG
        self.cell_lon = (keys[:, 1] + 0.5) / presence.CELLS_PER_DEG
        lookup = pd.Index(keys[:, 0] * 1_000_000 + keys[:, 1])
        code = lookup.get_indexer(cy.astype(np.int64) * 1_000_000 + cx).astype(np.int32)
        vid = t.column("vid").to_numpy()
        top = int(vid[-1]) + 1
        starts = np.searchsorted(vid, np.arange(top), side="left").astype(np.int64)
        stops = np.searchsorted(vid, np.arange(top), side="right").astype(np.int64)
        return _Part(
            starts=starts,
            stops=stops,
            code=code,
            block=t.column("block").to_numpy().astype(np.int32),
            mask=t.column("mask").to_numpy().astype(np.uint64),
        )

    def _load_vehicles(self, rebuild: bool) -> None:
        known = -1 if rebuild else len(self.plates) - 1
        t = self.wh.query_arrow(
            f"SELECT vid, plate FROM {presence.VEHICLES} WHERE vid > ? ORDER BY vid", [known]  # noqa: S608 - constant name
        )
        if rebuild:
            self.plates = np.empty(0, dtype=object)
        if t.num_rows:
            vid = t.column("vid").to_numpy()
            plates = t.column("plate").to_pylist()
            grown = np.full(int(vid[-1]) + 1, None, dtype=object)
            grown[: len(self.plates)] = self.plates
            grown[vid] = plates
            self.plates = grown
        self.scratch = np.full(len(self.plates), -1, dtype=np.int32)

    def refresh(self) -> None:
        """Follow the warehouse: load what was ingested since the last call; rebuild after erasure."""
        row = self.wh.query("SELECT version, epoch FROM anpr_presence_state")
        version, epoch = (int(row[0][0]), int(row[0][1])) if row else (0, 0)
        if version == self.version:
            return
        top = self.wh.query(f"SELECT coalesce(max(batch), -1) FROM {presence.PRESENCE}")[0][0]  # noqa: S608 - constant name
        rebuild = epoch != self.epoch or len(self.parts) > 8
        if rebuild:
            self.parts, self.cells = [], {}
            part = self._load(-1)
        else:
            part = self._load(self.max_batch)
        if part is not None:
            self.parts.append(part)
        self._load_vehicles(rebuild)
        self.version, self.epoch, self.max_batch = version, epoch, int(top)

    # --- querying ---------------------------------------------------------------------------

    def days_seen(
        self, vids: np.ndarray, *, lat: float, lon: float, radius_km: float, day_from: int, day_to: int
    ) -> np.ndarray:
        """For each vehicle, the number of days in [day_from, day_to) it was seen in the area.

        Parameters
        ----------
        vids : numpy.ndarray
            Vehicle ids (``anpr_vehicles``); -1 counts nothing.
        lat, lon, radius_km : float
            The scene; a cell is in the area when its centre is within ``radius_km``.
        day_from, day_to : int
            Epoch days, half-open.

        Returns
        -------
        numpy.ndarray
            int64 counts, aligned with ``vids``.
        """
        vids = np.asarray(vids, dtype=np.int64)
        n = len(vids)
        if n == 0 or day_to <= day_from or not self.parts:
            return np.zeros(n, dtype=np.int64)
        in_area = haversine_km(lat, lon, self.cell_lat, self.cell_lon) <= radius_km
        b0, b1 = day_from // BLOCK, (day_to - 1) // BLOCK
        nb = b1 - b0 + 1
        # per block, the bits of the days inside [day_from, day_to)
        window = np.zeros(nb, dtype=np.uint64)
        for i in range(nb):
            lo = max(day_from - (b0 + i) * BLOCK, 0)
            hi = min(day_to - (b0 + i) * BLOCK, BLOCK)
            width = hi - lo
            bits = np.uint64(0xFFFFFFFFFFFFFFFF) if width == BLOCK else np.uint64((1 << width) - 1)
            window[i] = bits << np.uint64(lo)
        acc = np.zeros(n * nb, dtype=np.uint64)
        kernel = _kernel()
        known = np.where(vids >= 0, vids, np.iinfo(np.int64).max)  # -1: beyond every part
        for part in self.parts:
            hit, starts, stops = part.slices(known)
            if len(hit):
                kernel(hit, starts, stops, part.code, part.block, part.mask, in_area, window, b0, nb, acc)
        counts: np.ndarray = np.bitwise_count(acc).reshape(n, nb).sum(axis=1).astype(np.int64)
        return counts


def index_for(wh: Warehouse) -> PresenceIndex:
    """The process-wide presence index of ``wh`` (built on first use, then kept current).

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.

    Returns
    -------
    PresenceIndex
        Refreshed to the warehouse's latest committed ingest.
    """
    presence.ensure(wh)
    with _LOCK:
        idx = _INDEXES.get(id(wh))
        if idx is None or idx.wh is not wh:
            idx = _INDEXES[id(wh)] = PresenceIndex(wh)
    with idx.lock:
        idx.refresh()
    return idx
