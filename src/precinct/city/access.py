"""The typed link to the city's road network that every domain uses, with its fallbacks.

A :class:`CityLink` holds the loaded road network (any object with the :class:`RoadNetwork`
methods, normally :class:`precinct.city.road.RoadGraph`) or ``None`` when none could be loaded;
then travel times become straight-line distance at a typical urban speed with a detour factor
(results say so, ``eta_source``) and addresses cannot be resolved. ``link.require()`` gives the
network itself to code that cannot do without one (routes, isochrones).

Links are obtained (loaded once, cached, a failed load retried after a minute) through
:func:`precinct.city.service.city_for` (an app's state) and
:func:`precinct.city.service.city_for_settings` (CLI commands, background workers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from precinct.city.geo import haversine_m
from precinct.errors import NotFound

log = logging.getLogger("precinct.command")

FALLBACK_SPEED_MPS = 30 / 3.6  # 30 km/h urban average
DETOUR_FACTOR = 1.35  # road distance over straight-line distance, typical for cities
RETRY_AFTER_S = 60.0


@runtime_checkable
class RoadNetwork(Protocol):
    """What the domains ask of a road network (implemented by :class:`precinct.city.road.RoadGraph`)."""

    def geocode(self, text: str, *, limit: int = 5) -> list[Any]: ...

    def snap(self, lat: float, lon: float, *, what: str = ...) -> Any: ...

    def travel_times_to(self, lat: float, lon: float, sources: npt.ArrayLike, *,
                        max_time_s: float | None = None, hour: int | None = None) -> Any: ...

    def travel_times_from(self, lat: float, lon: float, targets: npt.ArrayLike, *,
                          max_time_s: float | None = None, hour: int | None = None) -> Any: ...

    def k_nearest_by_time(self, lat: float, lon: float, points: npt.ArrayLike, k: int, *,
                          max_time_s: float | None = None, hour: int | None = None) -> list[tuple[int, float]]: ...

    def route(self, from_latlon: tuple[float, float], to_latlon: tuple[float, float], *,
              metric: str = ..., hour: int | None = None) -> Any: ...

    def isochrone(self, lat: float, lon: float, seconds: float, *, hour: int | None = None,
                  speed_mps: float | None = None, buffer_m: float | None = None) -> Any: ...

    def edge_segments(self) -> Any: ...


@dataclass(frozen=True)
class Place:
    """A geocoding candidate."""

    lat: float
    lon: float
    label: str
    score: float


class CityLink:
    """A road network (or None) with the operations the domains need, and their fallbacks."""

    def __init__(self, city: RoadNetwork | None) -> None:
        self.city = city

    @property
    def has_roads(self) -> bool:
        return self.city is not None and hasattr(self.city, "travel_times_to")

    def require(self) -> RoadNetwork:
        """The road network itself, or a 404 saying how to get one."""
        if self.city is None:
            raise NotFound("no road network yet: run `precinct city build` (the demo builds one)")
        return self.city

    def geocode(self, text: str, limit: int = 5) -> list[Place]:
        """Candidates for a street / junction / place name (Chinese or Latin script), best first."""
        if self.city is None or not hasattr(self.city, "geocode"):
            return []
        raw = self.city.geocode(text)
        places = [_as_place(c) for c in list(raw or [])[:limit]]
        return sorted((p for p in places if p is not None), key=lambda p: -p.score)

    def travel_times(
        self, lat: float, lon: float, sources: np.ndarray, max_time_s: float | None = None
    ) -> tuple[np.ndarray, str]:
        """Seconds from each source ``(lat, lon)`` row to the point; ``inf`` when unreachable.

        Returns the times and ``"road"`` or ``"straight_line"`` (the fallback).
        """
        if len(sources) == 0:
            return np.zeros(0), "road" if self.has_roads else "straight_line"
        if self.has_roads:
            try:
                city: Any = self.city
                times = np.asarray(city.travel_times_to(lat, lon, sources, max_time_s=max_time_s), dtype=np.float64)
                return times, "road"
            except Exception:
                log.warning("road travel times failed; using straight-line estimate", exc_info=True)
        pts = np.asarray(sources, dtype=np.float64).reshape(-1, 2)
        dist = haversine_m(lat, lon, pts[:, 0], pts[:, 1])
        times = dist * DETOUR_FACTOR / FALLBACK_SPEED_MPS
        if max_time_s is not None:
            times = np.where(times > max_time_s, np.inf, times)
        return times, "straight_line"


def _as_place(c: Any) -> Place | None:
    try:
        if isinstance(c, dict):
            return Place(float(c["lat"]), float(c["lon"]), str(c.get("label", "")), float(c.get("score", 0)))
        if hasattr(c, "lat"):
            return Place(
                float(c.lat),
                float(c.lon),
                str(getattr(c, "label", "")),
                float(getattr(c, "score", 0)),
            )
        lat, lon, label, score = c[:4]
        return Place(float(lat), float(lon), str(label), float(score))
    except (KeyError, TypeError, ValueError, IndexError):
        return None
