"""The public face of crime analysis (研判): what the CLI, the API and other domains call.

Everything here is about places and times, never people: inputs are incident points, outputs are
aggregates per grid cell, road segment, distance/time band or hour, with no incident ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from precinct.analytics.events import Events, from_records, read_csv
from precinct.analytics.gistar import gi_star
from precinct.analytics.grid import Grid, kde_cells, queen_weights
from precinct.analytics.knox import Progress, knox, knox_table
from precinct.errors import BadInput

__all__ = [
    "Events",
    "forecast_areas",
    "hotspots",
    "incident_events",
    "knox_bands",
    "knox_single",
    "load_csv",
    "near_repeat_zones",
]


def load_csv(path: Path | str, *, crs: str | None = None) -> Events:
    """Incidents from an analyst's CSV (see :func:`precinct.analytics.events.read_csv`)."""
    return read_csv(path, crs=crs)


def incident_events(session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
                    types: list[str] | None = None, crs: str | None = None) -> Events:
    """Precinct's own located incidents in ``[since, until)`` as events in a metric projection.

    Reads ``precinct.command.service.incident_records`` (no personal data); unlocated incidents
    are left out.
    """
    from precinct.command.service import incident_records

    return from_records(incident_records(session, since=since, until=until, types=types), crs=crs)


def hotspots(events: Events, *, cell_m: float, permutations: int = 999, seed: int | None = None,
             bandwidth_m: float | None = None, transform: str = "B", ties: str = "esda",
             max_cells: int = 4_000_000) -> dict[str, Any]:
    """Counts, Getis-Ord Gi* and (optionally) kernel density on a square grid over the events.

    Parameters
    ----------
    events : Events
        Points in a metric CRS.
    cell_m : float
        Cell size in metres.
    permutations : int
        Conditional permutations for ``p_sim``.
    seed : int, optional
        Seed of the permutations.
    bandwidth_m : float, optional
        Also a quartic kernel density (expected events per cell) with this bandwidth.
    transform, ties : str
        See :func:`precinct.analytics.gistar.gi_star`.
    max_cells : int
        Refuse grids larger than this (checked before any work).

    Returns
    -------
    dict
        ``{"crs", "cell_m", "grid", "events", "permutations", "cells": [{"cell_id", "x", "y", "count",
        "gi_z", "p_sim"[, "kde"]}, ...]}``, every cell of the grid (empty ones too), ``x``, ``y``
        the cell centre in ``crs``; queen contiguity with the cell itself included.
    """
    grid = Grid.covering(events.x, events.y, cell_m=cell_m, crs=events.crs, max_cells=max_cells)
    counts = grid.counts(events.x, events.y)
    if grid.n < 2:
        raise BadInput(f"all events fall in one {cell_m:g} m cell; use smaller cells", detail={"field": "cell_m"})
    res = gi_star(counts, queen_weights(grid.nrows, grid.ncols), transform=transform,
                  permutations=permutations, seed=seed, ties=ties)
    cx, cy = grid.centres()
    kde = kde_cells(grid, events.x, events.y, bandwidth_m=bandwidth_m) if bandwidth_m else None
    p = res.p_sim
    cells = []
    for c in range(grid.n):
        row: dict[str, Any] = {"cell_id": c, "x": float(cx[c]), "y": float(cy[c]), "count": int(counts[c]),
                               "gi_z": float(res.z[c]), "p_sim": None if p is None else float(p[c])}
        if kde is not None:
            row["kde"] = float(kde[c])
        cells.append(row)
    return {"crs": grid.crs, "cell_m": float(cell_m),
            "grid": {"x0": grid.x0, "y0": grid.y0, "nrows": grid.nrows, "ncols": grid.ncols,
                     "order": "row-major from the south-west corner", "weights": "queen contiguity, self included"},
            "events": len(events), "permutations": permutations, "cells": cells}


def knox_single(events: Events, *, distance_m: float, time_days: float, permutations: int = 999,
                seed: int | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Single-threshold Knox test (pointpats' ``Knox``): ``observed``, ``expected``, ``p_value`` and more."""
    k = knox(events.x, events.y, events.days(), distance_m=distance_m, time_days=time_days,
             permutations=permutations, seed=seed, progress=progress)
    return {"crs": events.crs, "events": len(events), **k.as_dict()}


def knox_bands(events: Events, *, distance_edges: Sequence[float], time_edges: Sequence[float],
               permutations: int = 999, seed: int | None = None, alpha: float = 0.05,
               progress: Progress | None = None) -> dict[str, Any]:
    """Knox table over distance x time bands (the near-repeat calculator's) and the near-repeat zone."""
    tab = knox_table(events.x, events.y, events.days(), distance_edges=distance_edges, time_edges=time_edges,
                     permutations=permutations, seed=seed, progress=progress)
    return {"crs": events.crs, "events": len(events), "permutations": permutations,
            "bands": tab.rows(), "near_repeat_zone": tab.zone(alpha=alpha)}


def counts_by(events: Events, *, key: str) -> dict[str, int]:
    """Event counts by ``type``, ``hour`` (of day) or ``weekday`` (0 = Monday)."""
    if key == "type":
        vals, cnt = np.unique(events.types.astype(str), return_counts=True)
        return {str(v): int(c) for v, c in zip(vals, cnt, strict=True)}
    secs = events.ts.astype("datetime64[s]").astype(np.int64)
    if key == "hour":
        b = (secs // 3600) % 24
        return {str(h): int(c) for h, c in enumerate(np.bincount(b, minlength=24))}
    if key == "weekday":
        b = (secs // 86400 + 3) % 7  # 1970-01-01 was a Thursday
        return {str(h): int(c) for h, c in enumerate(np.bincount(b, minlength=7))}
    raise BadInput("key must be type, hour or weekday", detail={"field": "key"})


def forecast_areas(events: Events, *, method: str = "sepp", cell_m: float = 250.0, horizon_days: float = 7.0,
                   area_share: float = 0.05, until: np.datetime64 | None = None, train_days: float = 365.0,
                   origins: int = 4) -> dict[str, Any]:
    """The cells a method flags for ``[until, until + horizon_days)``, with its measured accuracy.

    Parameters
    ----------
    events : Events
        Incidents (those before ``until`` are used).
    method : str
        ``kde``, ``retrospective``, ``prospective`` or ``sepp``.
    cell_m, horizon_days, area_share : float
        Cell size; forecast window; share of the study area (cells with any event) flagged.
    until : numpy.datetime64, optional
        The forecast origin (default: the day after the last event).
    train_days : float
        Training window before the origin (also of each evaluation origin).
    origins : int
        Rolling origins of the accuracy shown beside the forecast (against the KDE baseline).

    Returns
    -------
    dict
        ``{"crs", "cell_m", "method", "origin", "horizon_days", "area_share", "study_cells",
        "cells": [{"cell_id", "x", "y", "score", "rank"}], "accuracy": {...} | None,
        "accuracy_note"}``; ``score`` is the expected events in the window.
    """
    from precinct.analytics.evaluate import evaluate
    from precinct.analytics.forecast import METHODS, Train, forecast, top_cells

    if method not in METHODS:
        raise BadInput(f"unknown method {method!r}; one of {', '.join(METHODS)}", detail={"field": "method"})
    if not 0 < area_share < 1:
        raise BadInput("area share must be between 0 and 1", detail={"field": "area_share"})
    if until is not None:
        events = events.select(events.ts < until.astype("datetime64[s]"))
    if len(events) < 10:
        raise BadInput(f"{len(events)} located incidents: a forecast needs at least 10", detail={"field": "since"})
    origin_day = events.ts.min().astype("datetime64[D]")
    t = events.days(origin_day)
    t0 = float((until.astype("datetime64[s]") - origin_day) / np.timedelta64(1, "D")) if until is not None \
        else float(np.floor(t.max())) + 1.0
    keep = t >= t0 - train_days
    grid = Grid.covering(events.x, events.y, cell_m=cell_m, crs=events.crs)
    cells = grid.locate(events.x, events.y)
    study = np.flatnonzero(np.bincount(cells, minlength=grid.n) > 0)
    k = max(1, round(area_share * study.size))
    scores = forecast(method, grid, Train(events.x[keep], events.y[keep], t[keep]), t0, horizon_days)
    top = top_cells(scores, study, k)
    cx, cy = grid.centres()
    accuracy, note = None, None
    methods = ("kde", method) if method != "kde" else ("kde",)
    span = float(np.floor(t.max())) + 1.0
    tdays = min(train_days, span - origins * horizon_days)
    try:
        if tdays < 7:
            raise BadInput(f"{span:g} days of data: too short to evaluate {origins} origins of {horizon_days:g} days")
        accuracy = evaluate(events, cell_m=cell_m, train_days=tdays, test_days=horizon_days, origins=origins,
                            area_shares=(area_share,), methods=methods)
    except BadInput as exc:
        note = str(exc)
    return {"crs": grid.crs, "cell_m": float(cell_m), "method": method,
            "origin": str(origin_day + np.timedelta64(round(t0 * 86400), "s")), "horizon_days": float(horizon_days),
            "area_share": float(area_share), "study_cells": int(study.size),
            "cells": [{"cell_id": int(c), "x": float(cx[c]), "y": float(cy[c]), "score": float(scores[c]),
                       "rank": i + 1} for i, c in enumerate(top.tolist())],
            "accuracy": accuracy, "accuracy_note": note}


def near_repeat_zones(events: Events, *, until: np.datetime64, distance_edges: Sequence[float],
                      time_edges: Sequence[float], permutations: int = 99, seed: int | None = 0,
                      alpha: float = 0.05) -> dict[str, Any]:
    """Where risk is raised now: a zone around every event still inside the near-repeat zone's time.

    The Knox table over ``events`` (all before ``until``) gives the near-repeat zone (distance and
    time where the ratio is raised, :meth:`precinct.analytics.knox.KnoxTable.zone`); each event of
    the last ``time_days`` before ``until`` then raises a zone of that radius until ``ts + time_days``,
    suggested to patrol. Places and times only: no incident ids.

    Returns
    -------
    dict
        ``{"crs", "events", "zone": {"distance_m", "time_days"} | None, "bands", "zones": [{"x", "y",
        "radius_m", "type", "since", "until"}]}``, newest first; no zones when no near-repeat is found.
    """
    end = until.astype("datetime64[s]")
    past = events.select(events.ts < end)
    tab = knox_bands(past, distance_edges=distance_edges, time_edges=time_edges, permutations=permutations,
                     seed=seed, alpha=alpha)
    zone = tab["near_repeat_zone"]
    zones: list[dict[str, Any]] = []
    if zone is not None:
        span = np.timedelta64(round(zone["time_days"] * 86400), "s")
        recent = np.flatnonzero(past.ts >= end - span)
        recent = recent[np.argsort(past.ts[recent], kind="stable")[::-1]]
        zones = [{"x": float(past.x[i]), "y": float(past.y[i]), "radius_m": zone["distance_m"],
                  "type": str(past.types[i]), "since": str(past.ts[i]), "until": str(past.ts[i] + span)}
                 for i in recent.tolist()]
    return {"crs": past.crs, "events": len(past), "zone": zone, "bands": tab["bands"], "zones": zones}
