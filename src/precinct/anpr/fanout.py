"""Hotlist alert fan-out, off the request path: nearest units, then the event bus.

An ingest answers as soon as its batch is durable; the alerts it raised are handed to one worker
thread per process (:class:`AlertFanout`), which adds the nearest available units by road travel
time (:func:`precinct.command.service.nearest_available_units`, the same ranking as dispatch
recommendation; one read of the units per batch, not per alert) and publishes each alert as
``anpr.alert`` on the bus, in the order raised. Nothing here touches the stored reads or the
alerts' records: those are committed before the fan-out starts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect

from precinct.config import Settings
from precinct.core.db import Database

log = logging.getLogger("precinct.anpr")

_has_units: dict[str, tuple[float, bool]] = {}


def _units_table(db: Database, *, recheck_s: float = 30.0) -> bool:
    """Whether dispatch's ``units`` table exists (remembered; a missing one is re-checked)."""
    hit = _has_units.get(db.url)
    if hit is not None and (hit[1] or time.monotonic() - hit[0] < recheck_s):
        return hit[1]
    found = bool(inspect(db.engine).has_table("units"))
    _has_units[db.url] = (time.monotonic(), found)
    return found


def units_for(
    db: Database, settings: Settings, points: list[tuple[float, float]], *, k: int = 3
) -> list[list[dict[str, Any]]]:
    """The ``k`` available units nearest by road travel time to each point, fastest first.

    Parameters
    ----------
    db : Database
        Operations database (dispatch's ``units`` table, read if present).
    settings : Settings
        For the city's road graph.
    points : list of (lat, lon)
        Where the alerts' reads were taken.
    k : int
        Units per point.

    Returns
    -------
    list of list of dict
        Per point: ``unit_id``, ``callsign``, ``travel_time_s``; empty lists when there are no
        units, no road graph, or routing fails (an alert goes out regardless).
    """
    empty: list[list[dict[str, Any]]] = [[] for _ in points]
    if not points:
        return empty
    try:
        if not _units_table(db):
            return empty
        from precinct.city.service import city_for_settings
        from precinct.command.service import available_units, nearest_available_units

        with db.sessionmaker() as session:
            rows = available_units(session)
        if not rows:
            return empty
        city = city_for_settings(settings)
        if not city.has_roads:  # alerts carry road travel times only
            return empty
        out = []
        for lat, lon in points:
            near = nearest_available_units(None, lat=lat, lon=lon, limit=k, city=city, candidates=rows)
            out.append(
                [{"unit_id": u.unit_id, "callsign": u.callsign, "travel_time_s": round(u.travel_time_s, 1)}
                 for u in near.units]
                if near.eta_source == "road" else []
            )
        return out
    except Exception as exc:  # an alert must go out even if routing fails
        log.warning("nearest units unavailable for alerts: %s", exc)
        return empty


class AlertFanout:
    """One worker thread that completes and publishes alerts in the order they were raised.

    Parameters
    ----------
    publish : callable
        ``publish(subject, event)``, e.g. the app's bus ``publish`` (thread-safe).
    units : callable
        ``units(points) -> list of unit lists`` (see :func:`units_for`).
    """

    def __init__(
        self,
        publish: Callable[[str, dict[str, Any]], None],
        units: Callable[[list[tuple[float, float]]], list[list[dict[str, Any]]]],
    ) -> None:
        self._publish = publish
        self._units = units
        self._queue: queue.SimpleQueue[list[dict[str, Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="anpr-alert-fanout", daemon=True)
        self._thread.start()

    def submit(self, alerts: list[dict[str, Any]]) -> None:
        """Queue a durable batch's alerts for publication (returns at once)."""
        if alerts:
            self._queue.put(alerts)

    def close(self, timeout: float = 5.0) -> None:
        """Publish what is queued, then stop the worker."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            alerts = self._queue.get()
            if alerts is None:
                return
            try:  # gather what else is waiting: one units lookup for all of it
                while True:
                    more = self._queue.get_nowait()
                    if more is None:
                        self._queue.put(None)
                        break
                    alerts = alerts + more
            except queue.Empty:
                pass
            try:
                for alert, units in zip(
                    alerts, self._units([(a["lat"], a["lon"]) for a in alerts]), strict=True
                ):
                    alert["units"] = units
                    self._publish("anpr.alert", alert)
            except Exception:  # never let one bad batch stop the worker
                log.exception("hotlist alerts could not be published")
