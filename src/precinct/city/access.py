"""The one way to the city's road network, for every domain: typed, loaded once, cached, with a fallback.

``city_for(app.state)`` (API) and ``city_for_settings(settings)`` (CLI, background workers) return
a :class:`CityLink`: the loaded road network (any object with the :class:`RoadNetwork` methods,
normally :class:`precinct.city.road.RoadGraph`) or, when none can be loaded (not built and no
default possible, or failing to load), ``None`` with fallbacks: travel times become straight-line
distance at a typical urban speed with a detour factor (results say so, ``eta_source``) and
addresses cannot be resolved. A failed load is retried after a minute. ``link.require()`` gives
the network itself to code that cannot do without one (routes, isochrones).

:func:`load_city` is :func:`precinct.city.service.current_city` typed as the protocol; the city
domain's own CLI keeps using its service directly.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from precinct.city.geo import haversine_m
from precinct.errors import NotFound

if TYPE_CHECKING:
    from precinct.config import Settings

log = logging.getLogger("precinct.command")

FALLBACK_SPEED_MPS = 30 / 3.6  # 30 km/h urban average
DETOUR_FACTOR = 1.35  # road distance over straight-line distance, typical for cities
RETRY_AFTER_S = 60.0
_lock = threading.Lock()
_failed: dict[str, float] = {}  # graph path -> monotonic time of a failed load


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


def load_city(settings: Settings | None = None) -> RoadNetwork:
    """This installation's road network, loaded once a process (built if need be; may raise)."""
    from precinct.city.service import current_city

    return current_city(settings)


def built_city(settings: Settings | None = None) -> RoadNetwork | None:
    """The road network only if one has been built under the data directory (else None)."""
    from precinct.city.service import graph_path

    return load_city(settings) if graph_path(settings).exists() else None


def _try_load(settings: Settings | None) -> RoadNetwork | None:
    try:
        return load_city(settings)
    except Exception as exc:  # not built yet, or no data: straight-line fallback
        log.warning("no city road graph (%s); ETAs fall back to straight-line estimates", type(exc).__name__)
        return None


def _fresh(tried: float | None, link: CityLink) -> bool:
    """A loaded city stays; a failed load is retried after a minute; a link set by hand stays."""
    return link.city is not None or tried is None or time.monotonic() - tried < RETRY_AFTER_S


def city_for(state: Any) -> CityLink:
    """The app's city link (``app.state``), loading the city on first use.

    A city set by hand on ``state.city`` (tests, the demo) is used as it is; a failed load is
    retried each minute.
    """
    link: CityLink | None = getattr(state, "city_link", None)
    if link is not None and _fresh(getattr(state, "city_tried_at", None), link):
        return link
    with _lock:
        link = getattr(state, "city_link", None)
        if link is not None and _fresh(getattr(state, "city_tried_at", None), link):
            return link
        city = state.city if getattr(state, "city", None) is not None else _try_load(state.settings)
        state.city = city
        state.city_tried_at = time.monotonic()
        link = CityLink(city)
        state.city_link = link
        settings = getattr(state, "settings", None)
        if city is not None and getattr(settings, "environment", "test") != "test":
            # as at start-up (precinct.app.freeze_heap): the graph's objects leave the collector's scans
            gc.collect()
            gc.freeze()
        return link


def city_for_settings(settings: Settings | None = None) -> CityLink:
    """The city link outside an app (CLI commands, background workers).

    The network itself is cached by :func:`precinct.city.service.current_city` (one per data
    directory); a failed load is remembered here and retried after a minute.
    """
    from precinct.city.service import graph_path

    key = str(graph_path(settings).resolve())
    failed_at = _failed.get(key)
    if failed_at is not None and time.monotonic() - failed_at < RETRY_AFTER_S:
        return CityLink(None)
    city = _try_load(settings)
    if city is None:
        _failed[key] = time.monotonic()
    else:
        _failed.pop(key, None)
    return CityLink(city)
