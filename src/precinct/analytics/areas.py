"""Counts by police station area (派出所辖区) for the weekly report.

Station areas are named WGS84 polygons (``{"id", "name_zh", "name_en", "points": [[lat, lon], ...]}``,
as ``precinct.public.service.station_areas`` hands them out). Each polygon is projected into the
events' metric CRS and every event is assigned to the first area (in the order given) whose polygon
contains it or has it on its boundary, the same rule as the open-data counts; the rest count as
``outside``. Aggregates only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from precinct.analytics.events import Events, project_wgs84
from precinct.errors import BadInput

OUTSIDE = "outside"


def assign_areas(events: Events, areas: Sequence[Mapping[str, Any]]) -> npt.NDArray[np.int64]:
    """Index into ``areas`` of each event's station area; -1 outside every area.

    Parameters
    ----------
    events : Events
        Points in a metric CRS.
    areas : sequence of mapping
        Station areas with ``points``, a ``[lat, lon]`` ring (closed or not, at least 3 points).

    Returns
    -------
    numpy.ndarray
        One int per event.
    """
    import shapely

    out = np.full(len(events), -1, dtype=np.int64)
    for i, a in enumerate(areas):
        pts = np.asarray(a.get("points") or [], dtype=np.float64)
        if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] != 2:
            raise BadInput(f"station area {a.get('id')!r}: points must be at least 3 [lat, lon] pairs",
                           detail={"field": "station_areas", "id": a.get("id")})
        x, y, _ = project_wgs84(pts[:, 0], pts[:, 1], events.crs)
        poly = shapely.Polygon(np.column_stack([x, y]))
        todo = np.flatnonzero(out < 0)
        if todo.size:
            hit = shapely.intersects_xy(poly, events.x[todo], events.y[todo])
            out[todo[hit]] = i
    return out


def counts_by_area(periods: Mapping[str, Events], areas: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Counts per station area for each named period (e.g. this week, last week, last year).

    Returns
    -------
    list of dict
        One row per area in the given order, then ``outside``: ``{"id", "name_zh", "name_en",
        <period>: count, ...}``. Empty when no areas are defined.
    """
    if not areas:
        return []
    rows: list[dict[str, Any]] = [{"id": str(a["id"]), "name_zh": str(a.get("name_zh", a["id"])),
                                   "name_en": str(a.get("name_en", a["id"]))} for a in areas]
    rows.append({"id": OUTSIDE, "name_zh": "辖区外", "name_en": "Outside the station areas"})
    for name, ev in periods.items():
        idx = assign_areas(ev, areas) if len(ev) else np.zeros(0, dtype=np.int64)
        counts = np.bincount(np.where(idx < 0, len(areas), idx), minlength=len(areas) + 1)
        for r, c in zip(rows, counts.tolist(), strict=True):
            r[name] = int(c)
    return rows
