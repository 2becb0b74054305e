"""Reads near a point in a time window, totalled per vehicle, in one compiled pass.

The area queries (association, series) ask, for every vehicle read within ``r`` km of a scene
in a time window: how many reads, the first and last, the least distance from the scene and the
least time from the window's middle. DuckDB fetches the window's reads from the time-ordered copy
(``anpr_reads_by_time``) with the circle's bounding box pushed down to the scan; this module does
the exact distance and the totals over integer vehicle ids (:mod:`precinct.anpr.presence`),
which is several times faster than grouping by plate text in SQL and leaves the totals as arrays
for the ranking.

The distance is the haversine formula of :func:`precinct.anpr.queries.distance_km` (same radius,
same operations), so a read on the circle's edge falls on the same side as in the shared SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

EARTH_KM = 6371.0088
_KERNEL: Any = None


def _kernel() -> Any:
    """The totalling pass, compiled with numba on first use (cached on disk)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=True, nogil=True)
        def gather(ts, lat, lon, vid, lat0, lon0, radius_km, mid, slot, out_vid, n, first, last, min_d, min_dt,  # type: ignore[no-untyped-def]
                   near_lat, near_lon):
            # The haversine distance is 2R·asin(sqrt(h)), increasing in h: rows are compared and
            # kept by h, and asin/sqrt run once per vehicle (on its least h) and for rows within a
            # hair of the edge, where the distance itself decides as it does in the SQL.
            # Reads come from a few hundred fixed readers, so positions repeat: h is kept for the
            # last position seen in each of 1,024 slots (same inputs, same h, bit for bit).
            k = 0
            cos0 = math.cos(math.radians(lat0))
            edge = math.sin(radius_km / (2.0 * EARTH_KM)) ** 2
            seen_lat = np.full(1024, np.nan)
            seen_lon = np.full(1024, np.nan)
            seen_h = np.zeros(1024)
            for i in range(len(ts)):
                la = lat[i]
                lo = lon[i]
                key = (int(la * 7919.0) * 31 + int(lo * 7907.0)) & 1023
                if seen_lat[key] == la and seen_lon[key] == lo:
                    h = seen_h[key]
                else:
                    h = math.sin(math.radians(la - lat0) / 2.0) ** 2 + cos0 * math.cos(
                        math.radians(la)
                    ) * math.sin(math.radians(lo - lon0) / 2.0) ** 2
                    seen_lat[key] = la
                    seen_lon[key] = lo
                    seen_h[key] = h
                if h > edge * (1.0 + 1e-9) or (
                    h >= edge * (1.0 - 1e-9) and 2.0 * EARTH_KM * math.asin(min(1.0, math.sqrt(h))) > radius_km
                ):
                    continue
                t = ts[i]
                dt = abs(t - mid)
                v = vid[i]
                s = slot[v]
                if s < 0:
                    s = k
                    slot[v] = k
                    out_vid[k] = v
                    n[k] = 1
                    first[k] = t
                    last[k] = t
                    min_d[k] = h
                    min_dt[k] = dt
                    near_lat[k] = la
                    near_lon[k] = lo
                    k += 1
                    continue
                n[s] += 1
                if t < first[s]:
                    first[s] = t
                if t > last[s]:
                    last[s] = t
                if h < min_d[s]:
                    min_d[s] = h
                    near_lat[s] = la
                    near_lon[s] = lo
                if dt < min_dt[s]:
                    min_dt[s] = dt
            for j in range(k):  # the scratch goes back to all -1 for the next scan; h -> km
                slot[out_vid[j]] = -1
                min_d[j] = 2.0 * EARTH_KM * math.asin(min(1.0, math.sqrt(min_d[j])))
            return k

        _KERNEL = gather
    return _KERNEL


@dataclass
class VehicleTotals:
    """Per vehicle read in the area (aligned arrays, in order of each vehicle's first read)."""

    vid: np.ndarray  # int64
    reads: np.ndarray  # int64
    first_us: np.ndarray  # int64
    last_us: np.ndarray  # int64
    min_distance_km: np.ndarray  # float64
    min_dt_us: np.ndarray  # int64, least |read time - window middle|
    near_lat: np.ndarray  # float64, where the closest read was (its first in the window on a tie)
    near_lon: np.ndarray  # float64

    def take(self, index: np.ndarray) -> VehicleTotals:
        return VehicleTotals(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


@dataclass
class WindowReads:
    """Reads fetched for a scan: aligned NumPy arrays (epoch µs, degrees, vehicle id)."""

    ts_us: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    vid: np.ndarray

    @classmethod
    def from_arrow(cls, table: pa.Table) -> WindowReads:
        """From a table with columns ``ts_us``, ``lat``, ``lon`` and ``vid``."""
        return cls(
            _column(table, "ts_us", np.int64),
            _column(table, "lat", np.float64),
            _column(table, "lon", np.float64),
            _column(table, "vid", np.int32),
        )

    def take(self, index: np.ndarray | slice) -> WindowReads:
        return WindowReads(self.ts_us[index], self.lat[index], self.lon[index], self.vid[index])


def totals(
    reads: WindowReads,
    *,
    lat: float,
    lon: float,
    radius_km: float,
    mid_us: int,
    scratch: np.ndarray,
) -> VehicleTotals:
    """Total the reads that lie within ``radius_km`` of (lat, lon), per vehicle.

    Parameters
    ----------
    reads : WindowReads
        Reads already limited to the time window (and, for speed, to the circle's bounding box).
    lat, lon, radius_km : float
        The scene and the radius.
    mid_us : int
        The window's middle (epoch µs), for the least time from it.
    scratch : numpy.ndarray
        int32, one entry per vehicle id, all -1; used during the pass and left all -1.

    Returns
    -------
    VehicleTotals
        One entry per vehicle with at least one read inside the circle.
    """
    m = len(reads.ts_us)
    vid, n, first, last, min_dt = (np.empty(m, dtype=np.int64) for _ in range(5))
    min_d, near_lat, near_lon = (np.empty(m, dtype=np.float64) for _ in range(3))
    k = 0
    if m:
        k = _kernel()(
            np.ascontiguousarray(reads.ts_us), np.ascontiguousarray(reads.lat),
            np.ascontiguousarray(reads.lon), np.ascontiguousarray(reads.vid),
            float(lat), float(lon), float(radius_km), int(mid_us), scratch,
            vid, n, first, last, min_d, min_dt, near_lat, near_lon,
        )
    return VehicleTotals(vid[:k], n[:k], first[:k], last[:k], min_d[:k], min_dt[:k], near_lat[:k], near_lon[:k])


def _column(table: pa.Table, name: str, dtype: Any) -> np.ndarray:
    col = table.column(name)
    arr = col.to_numpy() if col.num_chunks == 1 else col.combine_chunks().to_numpy()
    return np.ascontiguousarray(arr, dtype=dtype)
