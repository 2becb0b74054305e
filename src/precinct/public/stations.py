"""Police station areas (派出所辖区): named WGS84 polygons for alert areas and open-data counts."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.errors import BadInput, Conflict
from precinct.public.areas import check_polygon
from precinct.public.models import PublicStationArea


def add_station_area(session: Session, *, station_id: str, name_zh: str, name_en: str,
                     points: list[list[float]]) -> PublicStationArea:
    """Define a station's area (a closed, valid ``[lat, lon]`` ring).

    Raises
    ------
    BadInput
        An empty id or name, or an invalid polygon (the reason named).
    Conflict
        The id is taken.
    """
    if not station_id.strip() or len(station_id) > 64:
        raise BadInput("station id: 1-64 characters", detail={"field": "id"})
    if not name_zh.strip() or not name_en.strip():
        raise BadInput("a station area needs a Chinese and an English name", detail={"field": "name"})
    ring = check_polygon(points, field="station polygon")
    if session.get(PublicStationArea, station_id) is not None:
        raise Conflict(f"station area {station_id!r} exists already", detail={"id": station_id})
    row = PublicStationArea(id=station_id, name_zh=name_zh.strip(), name_en=name_en.strip(), polygon=json.dumps(ring))
    session.add(row)
    session.flush()
    return row


def station_areas(session: Session) -> list[dict[str, Any]]:
    """Every station area: ``id``, ``name_zh``, ``name_en``, ``points`` ([lat, lon] ring)."""
    return [{"id": r.id, "name_zh": r.name_zh, "name_en": r.name_en, "points": json.loads(r.polygon)}
            for r in session.scalars(select(PublicStationArea).order_by(PublicStationArea.id))]
