"""Unit recommendation: available units ranked by road travel time, against the response plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.calls.citylink import CityLink
from precinct.calls.common import haversine_m
from precinct.calls.models import Incident
from precinct.calls.service import TERMINAL_STATUSES
from precinct.calls.types import PRIORITIES, RESPONSE_LEVELS, Priority, response_plan
from precinct.core.db import utcnow
from precinct.dispatch.models import Assignment, Unit
from precinct.errors import Conflict

MAX_TRAVEL_S = 3600.0
STALE_POSITION_S = 15 * 60
SHORTLIST_MIN = 8
SHORTLIST_FACTOR = 4


def shortlist(rows: list[Any], lat: float, lon: float, *, plan: dict[Any, int], limit: int) -> list[Any]:
    """The units worth a road search: per unit type the nearest in a straight line.

    Keeps, per type, ``max(SHORTLIST_MIN, SHORTLIST_FACTOR * needed)`` nearest units, and the
    ``limit`` nearest overall. The road search then stops as soon as these are reached, so a
    query costs a few milliseconds however many units the city has; a unit that is farther in
    a straight line but faster by road than all of these is practically never missed.
    """
    if len(rows) <= max(limit, SHORTLIST_MIN):
        return rows
    la = np.radians(np.array([r.lat for r in rows], dtype=float))
    lo = np.radians(np.array([r.lon for r in rows], dtype=float))
    x = (lo - np.radians(lon)) * np.cos(np.radians(lat))
    y = la - np.radians(lat)
    d2 = x * x + y * y
    keep: set[int] = set(np.argsort(d2, kind="stable")[:limit].tolist())
    types = np.array([r.unit_type for r in rows])
    for utype in set(types.tolist()):
        idx = np.flatnonzero(types == utype)
        need = plan.get(utype, 0)
        k = max(SHORTLIST_MIN, SHORTLIST_FACTOR * need)
        keep.update(idx[np.argsort(d2[idx], kind="stable")[:k]].tolist())
    return [rows[i] for i in sorted(keep)]


def recommend(
    session: Session,
    *,
    incident: Incident,
    city: CityLink,
    limit: int = 20,
    all_types: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Rank available units for an incident by travel time from their latest position.

    Parameters
    ----------
    session
        Read-only use.
    incident
        The incident to respond to (must be open and located).
    city
        Road travel times (straight-line estimate when no road graph is loaded).
    limit
        Most recommendations returned.
    all_types
        Rank every unit type, not only those the response plan asks for.

    Returns
    -------
    dict
        ``recommendations`` (fastest first: ``unit_id``, ``eta_s``, ``unit_type``, ``distance_m``,
        ``in_plan``), ``plan`` (per unit type: needed, already assigned, suggested unit ids),
        ``response_level`` and ``eta_source`` (``road`` or ``straight_line``).
    """
    if incident.status in (*TERMINAL_STATUSES, "cleared"):
        raise Conflict(
            f"incident {incident.id} is {incident.status}; nothing to recommend",
            detail={"field": "incident_id", "reason": f"incident {incident.status}"},
        )
    if incident.lat is None or incident.lon is None:
        raise Conflict(
            f"incident {incident.id} has no location; set one before recommending units",
            detail={"field": "lat", "reason": "incident not located"},
        )
    now = now or utcnow()
    plan = response_plan(incident.type, incident.priority)
    assigned: dict[str, int] = {}
    for (utype,) in session.execute(
        select(Unit.unit_type)
        .join(Assignment, Assignment.unit_id == Unit.id)
        .where(
            Assignment.incident_id == incident.id,
            Assignment.status.in_(("dispatched", "en_route", "on_scene")),
        )
    ).all():
        assigned[utype] = assigned.get(utype, 0) + 1
    q = select(Unit.id, Unit.callsign, Unit.unit_type, Unit.station, Unit.lat, Unit.lon, Unit.position_at).where(
        Unit.active.is_(True), Unit.status == "available", Unit.lat.is_not(None)
    )
    if not all_types:
        q = q.where(Unit.unit_type.in_([u.value for u in plan]))
    rows = shortlist(list(session.execute(q).all()), incident.lat, incident.lon, plan=plan, limit=limit)
    sources = np.array([[r.lat, r.lon] for r in rows], dtype=float).reshape(-1, 2)
    times, source = city.travel_times(incident.lat, incident.lon, sources, max_time_s=MAX_TRAVEL_S)
    order = np.argsort(times, kind="stable")
    recs: list[dict[str, Any]] = []
    suggested: dict[str, list[str]] = {u.value: [] for u in plan}
    for i in order:
        t = float(times[i])
        if not np.isfinite(t):
            continue
        r = rows[int(i)]
        need = plan.get(r.unit_type, 0) - assigned.get(r.unit_type, 0)
        in_plan = r.unit_type in suggested and len(suggested[r.unit_type]) < need
        if in_plan:
            suggested[r.unit_type].append(r.id)
        age = (now - r.position_at).total_seconds() if r.position_at else None
        recs.append(
            {
                "unit_id": r.id,
                "callsign": r.callsign,
                "unit_type": r.unit_type,
                "station": r.station,
                "eta_s": round(t, 1),
                "distance_m": round(haversine_m(incident.lat, incident.lon, r.lat, r.lon), 1),
                "in_plan": in_plan,
                "position_age_s": round(age, 1) if age is not None else None,
                "position_stale": age is not None and age > STALE_POSITION_S,
            }
        )
    recs = recs[:limit]
    prio = Priority(incident.priority)
    info = PRIORITIES[prio]
    fastest = recs[0]["eta_s"] if recs else None
    return {
        "incident_id": incident.id,
        "priority": prio.value,
        "response_level": info.response_level,
        "response_level_name": RESPONSE_LEVELS[info.response_level],
        "arrival_target_s": info.arrival_target_s,
        "eta_source": source,
        "meets_arrival_target": fastest is not None and fastest <= info.arrival_target_s,
        "plan": [
            {
                "unit_type": u.value,
                "needed": n,
                "assigned": assigned.get(u.value, 0),
                "suggested": suggested[u.value],
                "short": max(0, n - assigned.get(u.value, 0) - len(suggested[u.value])),
            }
            for u, n in plan.items()
        ],
        "recommendations": recs,
    }


def etas_for(session: Session, *, incident: Incident, unit_ids: list[str], city: CityLink) -> dict[str, float]:
    """Road travel seconds for the named units to the incident (units without a fix are left out)."""
    if incident.lat is None or incident.lon is None or not unit_ids:
        return {}
    rows = session.execute(
        select(Unit.id, Unit.lat, Unit.lon).where(Unit.id.in_(unit_ids), Unit.lat.is_not(None))
    ).all()
    if not rows:
        return {}
    sources = np.array([[r.lat, r.lon] for r in rows], dtype=float)
    times, _ = city.travel_times(incident.lat, incident.lon, sources, max_time_s=MAX_TRAVEL_S)
    return {r.id: round(float(t), 1) for r, t in zip(rows, times, strict=True) if np.isfinite(t)}
