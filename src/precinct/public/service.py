"""The public face of the public-communication domain (舆), for the web and sim layers and the CLI.

- open data: :func:`open_stats` and its formats (:func:`stats_csv`, :func:`stats_geojson_bytes`);
- alerts: :func:`active_alerts`, :func:`alerts_feed`, and the alert workflow in :mod:`.alerts`;
- station areas: :func:`add_station_area`, :func:`station_areas`.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from precinct.config import Settings
from precinct.public.alerts import active_alerts, alert_view
from precinct.public.feeds import alerts_feed
from precinct.public.history import history
from precinct.public.stations import add_station_area, station_areas
from precinct.public.stats import SENSITIVE_TYPES, Source, monthly_stats, to_csv, to_geojson

__all__ = [
    "SENSITIVE_TYPES",
    "active_alerts",
    "add_station_area",
    "alert_view",
    "alerts_feed",
    "generate_callbacks",
    "history",
    "json_bytes",
    "open_stats",
    "station_areas",
    "stats_csv",
    "stats_geojson_bytes",
    "transparency_report",
]


def open_stats(session: Session, *, month: str, settings: Settings, source: Source | None = None,
               with_points: bool = True) -> dict[str, Any]:
    """The month's open data with this installation's k, station areas and road network."""
    city = None
    if with_points:
        def city() -> Any:
            from precinct.city.service import current_city

            return current_city(settings)

    return monthly_stats(session, month=month, k=settings.public_k, source=source,
                         station_areas=station_areas(session), city=city)


def stats_csv(stats: dict[str, Any]) -> str:
    """The published counts as CSV."""
    return to_csv(stats)


def stats_geojson_bytes(stats: dict[str, Any]) -> bytes:
    """The published counts as GeoJSON (UTF-8)."""
    return json_bytes(to_geojson(stats))


def json_bytes(payload: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def generate_callbacks(session: Session, *, days: float, rate: float = 1.0,
                       type_rates: dict[str, float] | None = None, source: Source | None = None) -> int:
    """Callback tasks for the incidents of the last ``days`` days that are closed (the number made)."""
    import datetime as dt

    from precinct.public.callbacks import generate
    from precinct.public.stats import AreaLookup, default_source

    now = dt.datetime.now(dt.UTC)
    records = (source or default_source)(session, since=now - dt.timedelta(days=days), until=now)
    lookup = AreaLookup(station_areas(session))
    return generate(session, records=records, rate=rate, type_rates=type_rates, station_of=lookup.of, now=now)


def transparency_report(session: Session, *, month: str, settings: Settings,
                        source: Source | None = None) -> dict[str, Any]:
    """The month's transparency report (JSON-able)."""
    from precinct.public.report import monthly_report

    return monthly_report(session, month=month, k=settings.public_k, source=source,
                          station_areas=station_areas(session))
