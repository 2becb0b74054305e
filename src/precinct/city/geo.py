"""Coordinate helpers: great-circle lengths and a local metric projection.

Routing never needs a projection (edge lengths are haversine metres), but snapping, isochrone
polygons and the synthetic city work in a flat local frame. An equirectangular projection about
the network's centre is accurate to well under 0.1 % across a city-sized area and costs two
multiplications, which matters when millions of segments are projected on load.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from precinct.errors import BadInput

EARTH_RADIUS_M = 6_371_008.8
_DEG = np.pi / 180.0

FloatArray = npt.NDArray[np.float64]


def haversine_m(lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike,
                lon2: npt.ArrayLike) -> FloatArray:
    """Great-circle distance in metres (vectorised).

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : array_like
        WGS84 degrees; broadcast against each other.

    Returns
    -------
    numpy.ndarray
        Distances in metres.
    """
    p1 = np.asarray(lat1, dtype=np.float64) * _DEG
    p2 = np.asarray(lat2, dtype=np.float64) * _DEG
    dp = p2 - p1
    dl = (np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64)) * _DEG
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


class LocalFrame:
    """Equirectangular projection about ``(lat0, lon0)``: metres east (x) and north (y)."""

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0 = float(lat0)
        self.lon0 = float(lon0)
        self._ky = EARTH_RADIUS_M * _DEG
        self._kx = self._ky * float(np.cos(self.lat0 * _DEG))

    def to_xy(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Project degrees to local metres."""
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * self._kx
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * self._ky
        return x, y

    def to_latlon(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Unproject local metres to degrees."""
        lat = np.asarray(y, dtype=np.float64) / self._ky + self.lat0
        lon = np.asarray(x, dtype=np.float64) / self._kx + self.lon0
        return lat, lon


def check_latlon(lat: float, lon: float, *, what: str = "point") -> tuple[float, float]:
    """Validate one WGS84 coordinate, raising :class:`BadInput` naming ``what``."""
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{what}: coordinates must be numbers",
                       detail={"lat": lat, "lon": lon}) from exc
    if not (np.isfinite(la) and np.isfinite(lo) and -90.0 <= la <= 90.0 and -180.0 <= lo <= 180.0):
        raise BadInput(f"{what}: ({lat}, {lon}) is not a WGS84 latitude/longitude",
                       detail={"lat": lat, "lon": lon})
    return la, lo


def check_points(points: npt.ArrayLike, *, what: str = "points") -> FloatArray:
    """Validate an ``(n, 2)`` array of lat/lon rows, raising :class:`BadInput`."""
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{what}: must be an (n, 2) array of lat, lon") from exc
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise BadInput(f"{what}: must be an (n, 2) array of lat, lon",
                       detail={"shape": list(arr.shape)})
    bad = ~(np.isfinite(arr).all(axis=1) & (np.abs(arr[:, 0]) <= 90) & (np.abs(arr[:, 1]) <= 180))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise BadInput(f"{what}: row {i} is not a WGS84 latitude/longitude",
                       detail={"row": i, "value": arr[i].tolist()})
    return arr
