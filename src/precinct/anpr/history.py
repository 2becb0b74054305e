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
since (by ingest batch); an erasure (retention), or more than eight such parts, has it rebuilt in a
background thread and swapped in when ready (after an erasure, the presence table answers meanwhile).

Building that whole-history index takes one pass over every presence row (about 20 s at 100M
reads, 90 s at 460M), so only a long-running process asks for it (the server at start-up:
``index_for(wh, build=True)``). Until a process has it, :meth:`PresenceIndex.days_seen` answers
from the persisted presence table itself, reading only the look-back's days and the cells of the
scene's bounding box (the table is kept sorted by day and cell, so DuckDB's zone maps skip the
rest) for the candidates alone: the first association of a fresh process costs what its scene
holds, not what the warehouse holds. Both give the same counts: the same rows, the same cells
(cell centres within the radius by :func:`haversine_km`), whole distinct days in the look-back.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from precinct.anpr import presence
from precinct.core.warehouse import Warehouse

EARTH_KM = 6371.0088
log = logging.getLogger("precinct.anpr")
BLOCK = 64
#: above this many cells in a scene's box, the cells are taken from the table instead of enumerated
MAX_BOX_CELLS = 4_000_000
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
    #: the whole-history parts are kept in memory (asked for by ``index_for(wh, build=True)``);
    #: otherwise :meth:`days_seen` reads the scene's days and cells from the warehouse
    resident: bool = False
    #: a rebuild of the whole-history parts is due (after an erasure, or to merge many parts)
    rebuild_wanted: bool = False
    rebuilding: bool = False

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

    def refresh(self, *, build: bool = False) -> None:
        """Follow the warehouse: load what was ingested since the last call; rebuild after erasure.

        The vehicle dictionary always; the whole-history parts only once ``build`` was asked for
        (then kept resident and followed the same way)."""
        row = self.wh.query("SELECT version, epoch FROM anpr_presence_state")
        version, epoch = (int(row[0][0]), int(row[0][1])) if row else (0, 0)
        load_parts = build and not self.resident
        if version == self.version and not load_parts:
            return
        erased = epoch != self.epoch
        if self.resident and erased and not load_parts:
            # an erasure: rebuilt in the background (:func:`index_for`); until then the table answers
            self.parts, self.cells, self.resident, self.rebuild_wanted = [], {}, False, True
        elif self.resident or load_parts:
            top = self.wh.query(f"SELECT coalesce(max(batch), -1) FROM {presence.PRESENCE}")[0][0]  # noqa: S608 - constant name
            if load_parts:
                self.parts, self.cells = [], {}
                part = self._load(-1)
            else:
                part = self._load(self.max_batch)
            if part is not None:
                self.parts.append(part)
            if len(self.parts) > 8:  # many small parts: merged by a rebuild in the background
                self.rebuild_wanted = True
            self.max_batch = int(top)
            self.resident = True
        if version != self.version:
            self._load_vehicles(erased)
        self.version, self.epoch = version, epoch

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
        if n == 0 or day_to <= day_from:
            return np.zeros(n, dtype=np.int64)
        if not self.resident:
            return self._scan_days_seen(vids, lat=lat, lon=lon, radius_km=radius_km, day_from=day_from,
                                        day_to=day_to)
        if not self.parts:
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

    def _scan_days_seen(
        self, vids: np.ndarray, *, lat: float, lon: float, radius_km: float, day_from: int, day_to: int
    ) -> np.ndarray:
        """:meth:`days_seen` from the presence table: the look-back's days, the scene's cells, the
        candidates only (no whole-history index)."""
        out = np.zeros(len(vids), dtype=np.int64)
        known = np.unique(vids[vids >= 0])
        if not len(known):
            return out
        box = cell_box(lat, lon, radius_km)
        where = "p.day >= ? AND p.day < ? AND p.cy BETWEEN ? AND ? AND p.cx BETWEEN ? AND ?"
        params = [int(day_from), int(day_to), *box]
        cy0, cy1, cx0, cx1 = box
        if (cy1 - cy0 + 1) * (cx1 - cx0 + 1) <= MAX_BOX_CELLS:  # every cell of the box
            gy, gx = (a.ravel() for a in np.meshgrid(np.arange(cy0, cy1 + 1, dtype=np.int64),
                                                     np.arange(cx0, cx1 + 1, dtype=np.int64), indexing="ij"))
        else:  # a very large scene: the cells stored in its box
            cells = self.wh.query_arrow(f"SELECT DISTINCT p.cy, p.cx FROM {presence.PRESENCE} p WHERE {where}",  # noqa: S608 - constant names
                                        params)
            gy = cells.column("cy").to_numpy().astype(np.int64)
            gx = cells.column("cx").to_numpy().astype(np.int64)
        inside = haversine_km(lat, lon, (gy + 0.5) / presence.CELLS_PER_DEG, (gx + 0.5) / presence.CELLS_PER_DEG)
        keep = inside <= radius_km
        if not keep.any():
            return out
        area = pa.table({"cy": pa.array(gy[keep].astype(np.int32)), "cx": pa.array(gx[keep].astype(np.int32))})
        cand = pa.table({"vid": pa.array(known.astype(np.int32))})
        t = self.wh.query_arrow(
            f"SELECT p.vid, count(DISTINCT p.day) AS days FROM {presence.PRESENCE} p "  # noqa: S608 - constant names
            "SEMI JOIN _scan_area a ON a.cy = p.cy AND a.cx = p.cx SEMI JOIN _scan_cand c ON c.vid = p.vid "
            f"WHERE {where} GROUP BY p.vid",
            params,
            tables={"_scan_area": area, "_scan_cand": cand},
        )
        if t.num_rows:
            got = pd.Series(t.column("days").to_numpy().astype(np.int64), index=t.column("vid").to_numpy())
            out[:] = got.reindex(vids, fill_value=0).to_numpy()
        return out


def cell_box(lat: float, lon: float, radius_km: float) -> tuple[int, int, int, int]:
    """Grid cells (``cy0, cy1, cx0, cx1``, inclusive) holding every cell whose centre lies within
    ``radius_km`` of the point: the circle's extent on the sphere, widened by two cells."""
    delta = radius_km / EARTH_KM  # angular radius
    dlat = math.degrees(delta)
    per = presence.CELLS_PER_DEG
    cy0 = math.floor((lat - dlat) * per) - 2
    cy1 = math.ceil((lat + dlat) * per) + 2
    if abs(lat) + dlat >= 89.0:  # near a pole: every longitude
        return cy0, cy1, -180 * per - 2, 180 * per + 2
    dlon = math.degrees(math.asin(min(1.0, math.sin(delta) / math.cos(math.radians(lat))))) * 1.01
    if lon - dlon < -180.0 or lon + dlon > 180.0:  # across the antimeridian: every longitude
        return cy0, cy1, -180 * per - 2, 180 * per + 2
    return cy0, cy1, math.floor((lon - dlon) * per) - 2, math.ceil((lon + dlon) * per) + 2


def index_for(wh: Warehouse, *, build: bool = False) -> PresenceIndex:
    """The process-wide presence index of ``wh``, kept current with the warehouse.

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    build : bool
        Load the whole-history index into memory (once; then it follows the warehouse). Without
        it (and until some call asked for it), the index holds the vehicle dictionary and answers
        :meth:`PresenceIndex.days_seen` from the presence table.

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
        idx.refresh(build=build)
        again = idx.rebuild_wanted and not idx.rebuilding
        if again:
            idx.rebuilding = True
    if again:
        _rebuild_in_background(wh, idx)
    return idx


def _rebuild_in_background(wh: Warehouse, old: PresenceIndex) -> None:
    """Build a new resident index off the lock and put it in ``old``'s place when ready; queries
    meanwhile use ``old`` (its parts, or after an erasure the presence table)."""

    def run() -> None:
        try:
            fresh = PresenceIndex(wh)
            with fresh.lock:
                fresh.refresh(build=True)
            with _LOCK:
                if _INDEXES.get(id(wh)) is old:
                    _INDEXES[id(wh)] = fresh
        except Exception as exc:  # the warehouse closed meanwhile, say; the next query asks again
            log.debug("presence index not rebuilt: %s", exc)
            with old.lock:
                old.rebuilding = False

    threading.Thread(target=run, name="presence-index-rebuild", daemon=True).start()
