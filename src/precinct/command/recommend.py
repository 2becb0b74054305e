"""Unit recommendation: available units ranked by road travel time, against the response plan.

:func:`nearest_available_units` is the one ranking of available units around a point (dispatch
recommendation here; hotlist-alert fan-out in ``anpr`` through :mod:`precinct.command.service`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.city.service import CityLink, haversine_m
from precinct.command.incidents import TERMINAL_STATUSES
from precinct.command.models import Assignment, Incident, Unit
from precinct.command.types import PRIORITIES, RESPONSE_LEVELS, Priority, response_plan
from precinct.command.units import ACTIVE
from precinct.core.timeutil import utcnow
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


@dataclass(frozen=True)
class NearUnit:
    """An available unit and how far it is from a point."""

    unit_id: str
    callsign: str
    unit_type: str
    station: str | None
    lat: float
    lon: float
    position_at: dt.datetime | None
    travel_time_s: float
    distance_m: float


@dataclass(frozen=True)
class NearestUnits:
    """Units fastest first, and whether times are by road or a straight-line estimate."""

    units: list[NearUnit]
    eta_source: str


def available_units(session: Session, *, unit_types: list[str] | None = None) -> list[Any]:
    """Active, available units with a position (rows of id, callsign, unit_type, station, lat, lon,
    position_at), ordered by id."""
    q = (
        select(Unit.id, Unit.callsign, Unit.unit_type, Unit.station, Unit.lat, Unit.lon, Unit.position_at)
        .where(Unit.active.is_(True), Unit.status == "available", Unit.lat.is_not(None), Unit.lon.is_not(None))
        .order_by(Unit.id)
    )
    if unit_types is not None:
        q = q.where(Unit.unit_type.in_(unit_types))
    return list(session.execute(q).all())


def nearest_available_units(
    session: Session | None,
    *,
    lat: float,
    lon: float,
    limit: int,
    city: CityLink,
    unit_types: list[str] | None = None,
    plan: dict[str, int] | None = None,
    max_time_s: float | None = None,
    candidates: list[Any] | None = None,
) -> NearestUnits:
    """The available units nearest to a point by travel time, fastest first.

    Used by dispatch recommendation and by the hotlist-alert fan-out alike.

    Parameters
    ----------
    session
        Read use (may be None when ``candidates`` are given).
    lat, lon
        The point (WGS84).
    limit
        How many units.
    city
        Road travel times (a straight-line estimate without a road network: ``eta_source``).
    unit_types
        Only these unit types.
    plan
        Units needed per type (a response plan): only the nearest in a straight line of each type
        are timed by road (:func:`shortlist`), and for each type of the plan the ``plan[type]``
        fastest are returned too, beyond ``limit`` if need be (in the same fastest-first order).
    max_time_s
        Units farther than this by road are left out.
    candidates
        Rows of :func:`available_units` read once for many points (default: read them here).

    Returns
    -------
    NearestUnits
        Reachable units fastest first (ties: by unit id) and the ``eta_source``.
    """
    if candidates is None:
        if session is None:
            raise ValueError("nearest_available_units needs a session or candidates")
        candidates = available_units(session, unit_types=unit_types)
    elif unit_types is not None:
        candidates = [r for r in candidates if r.unit_type in unit_types]
    rows = candidates if plan is None else shortlist(candidates, lat, lon, plan=plan, limit=limit)
    sources = np.array([[r.lat, r.lon] for r in rows], dtype=float).reshape(-1, 2)
    times, source = city.travel_times(lat, lon, sources, max_time_s=max_time_s)
    dist = haversine_m(lat, lon, sources[:, 0], sources[:, 1])
    ranked = [int(i) for i in np.argsort(times, kind="stable") if np.isfinite(times[i])]
    keep = set(ranked[:limit])
    for utype, need in (plan or {}).items():
        keep.update([i for i in ranked if rows[i].unit_type == utype][:need])
    units = [
        NearUnit(rows[i].id, rows[i].callsign, rows[i].unit_type, rows[i].station, rows[i].lat, rows[i].lon,
                 rows[i].position_at, float(times[i]), float(dist[i]))
        for i in ranked
        if i in keep
    ]
    return NearestUnits(units, source)


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
        .where(Assignment.incident_id == incident.id, Assignment.status.in_(ACTIVE))
    ).all():
        assigned[utype] = assigned.get(utype, 0) + 1
    near = nearest_available_units(
        session,
        lat=incident.lat,
        lon=incident.lon,
        limit=limit,
        city=city,
        unit_types=None if all_types else [u.value for u in plan],
        plan={u.value: n for u, n in plan.items()},
        max_time_s=MAX_TRAVEL_S,
    )
    recs: list[dict[str, Any]] = []
    suggested: dict[str, list[str]] = {u.value: [] for u in plan}
    for u in near.units:
        need = plan.get(u.unit_type, 0) - assigned.get(u.unit_type, 0)  # type: ignore[call-overload]
        in_plan = u.unit_type in suggested and len(suggested[u.unit_type]) < need
        if in_plan:
            suggested[u.unit_type].append(u.unit_id)
        age = (now - u.position_at).total_seconds() if u.position_at else None
        recs.append(
            {
                "unit_id": u.unit_id,
                "callsign": u.callsign,
                "unit_type": u.unit_type,
                "station": u.station,
                "eta_s": round(u.travel_time_s, 1),
                "distance_m": round(u.distance_m, 1),
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
        "eta_source": near.eta_source,
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
