"""The command domains' view of the city model (road graph): geocoding and travel times.

The city is loaded once per app (``app.state.city``) on first use through
``precinct.city.service.current_city(settings)``. Without a city (not built yet, or failing to
load) travel times fall back to straight-line distance at a typical urban speed with a detour
factor, and results say so (``eta_source``); addresses then cannot be resolved.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from precinct.calls.common import haversine_m

log = logging.getLogger("precinct.command")

FALLBACK_SPEED_MPS = 30 / 3.6  # 30 km/h urban average
DETOUR_FACTOR = 1.35  # road distance over straight-line distance, typical for cities
RETRY_AFTER_S = 60.0
_lock = threading.Lock()


@dataclass(frozen=True)
class Place:
    """A geocoding candidate."""

    lat: float
    lon: float
    label: str
    score: float


class CityLink:
    """Wraps a city object (or None) with the few operations dispatch needs."""

    def __init__(self, city: Any | None) -> None:
        self.city = city

    @property
    def has_roads(self) -> bool:
        return self.city is not None and hasattr(self.city, "travel_times_to")

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
        dist = np.array([haversine_m(lat, lon, float(a), float(b)) for a, b in sources])
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


def _fresh(state: Any, link: CityLink) -> bool:
    """A loaded city stays; a failed load is retried after a minute; a link set by hand stays."""
    tried = getattr(state, "city_tried_at", None)
    return link.city is not None or tried is None or time.monotonic() - tried < RETRY_AFTER_S


def city_for(state: Any) -> CityLink:
    """The app's city link, loading the city on first use (retrying a failed load each minute)."""
    link: CityLink | None = getattr(state, "city_link", None)
    if link is not None and _fresh(state, link):
        return link
    with _lock:
        link = getattr(state, "city_link", None)
        if link is not None and _fresh(state, link):
            return link
        city = None
        if getattr(state, "city", None) is not None:
            city = state.city
        else:
            try:
                from precinct.city.service import current_city

                city = current_city(state.settings)
            except Exception as exc:  # not built yet, or no data: straight-line fallback
                log.warning(
                    "no city road graph (%s); ETAs fall back to straight-line estimates",
                    type(exc).__name__,
                )
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
