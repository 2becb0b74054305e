"""110 calls: typed, rhythmic, clustered in hotspots, with near-repeat burglaries and duplicates.

The result is a list of plain records (small: hundreds a day). Call ids are assigned after the
planted stories' calls are merged in, so the ids are in time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from precinct.sim.geo import Geography
from precinct.sim.hawkes import NearRepeat, simulate_cascade
from precinct.sim.incidents import INCIDENT_TYPES, PRIORITIES, TYPE_BY_CODE, type_shares
from precinct.sim.rhythm import HOUR_S, hourly_intensity, sample_times

DUP_DESCRIPTIONS = ("另一报警人称", "路人再次报警：", "重复报警：")


@dataclass
class Call:
    """One 110 call before an id is assigned. ``ts`` is seconds from the period start."""

    ts: int
    lat: float
    lon: float
    type: str
    priority: str
    description: str
    event: int  # calls about the same event share this number
    tag: str | None = None  # a planted story's handle on this call
    parent_event: int | None = None  # near-repeat: the burglary that triggered this one
    call_id: str = ""
    duplicate: bool = False  # a further call about an event already reported
    extra: dict[str, Any] = field(default_factory=dict)


def _locations(rng: np.random.Generator, geo: Geography, n: int, hotspot_p: float) -> tuple[np.ndarray, np.ndarray]:
    """Call places: around a hotspot (σ 200 m) or at a node drawn by population, jittered 30 m."""
    in_hot = rng.random(n) < hotspot_p
    h = rng.choice(geo.hotspot_lat.size, size=n, p=geo.hotspot_weight)
    node = rng.choice(geo.node_lat.size, size=n, p=geo.node_weight)
    hx, hy = geo.frame.to_xy(geo.hotspot_lat[h], geo.hotspot_lon[h])
    nx, ny = geo.frame.to_xy(geo.node_lat[node], geo.node_lon[node])
    sd = np.where(in_hot, 200.0, 30.0)
    x = np.where(in_hot, hx, nx) + rng.normal(0, 1, n) * sd
    y = np.where(in_hot, hy, ny) + rng.normal(0, 1, n) * sd
    lat, lon = geo.frame.to_latlon(x, y)
    return lat, lon


def generate_calls(
    rng: np.random.Generator,
    geo: Geography,
    *,
    days: int,
    start_weekday: int,
    calls_per_day: float,
    near_repeat: NearRepeat | None = None,
) -> tuple[list[Call], dict[str, Any]]:
    """Background 110 calls over a period.

    Parameters
    ----------
    rng
        Random generator.
    geo
        Geography (hotspots, population).
    days
        Length of the period.
    start_weekday
        Weekday of day 0, Monday = 0.
    calls_per_day
        Expected distinct events a day before near-repeat offspring and duplicates.
    near_repeat
        Planted near-repeat burglaries (default :class:`NearRepeat`: a third of burglaries followed
        by one or more within 200 m and 14 days); ``NearRepeat(share=0)`` plants none.

    Returns
    -------
    calls : list of Call
        Sorted by time; no ids yet.
    info : dict
        Ground truth about the process: per-type expected counts and the planted near-repeats
        (parameters, burglaries, how many are near-repeats; each near-repeat call names its trigger
        in ``parent_event``, which the truth file lists as pairs of call ids).
    """
    near_repeat = near_repeat or NearRepeat()
    shares = type_shares()
    calls: list[Call] = []
    event = 0
    expected: dict[str, float] = {}
    for t, share in zip(INCIDENT_TYPES, shares, strict=True):
        lam = hourly_intensity(t.rhythm, start_weekday, days) * (calls_per_day * share / 24)
        expected[t.code] = float(lam.sum())
        times = sample_times(rng, lam)
        lat, lon = _locations(rng, geo, times.size, t.hotspot)
        if t.code == "burglary":
            x, y = geo.frame.to_xy(lat, lon)
            cas = simulate_cascade(rng, times, x, y, near_repeat, days * 86400)
            lat, lon = geo.frame.to_latlon(cas.x, cas.y)
            times, parents = cas.t, cas.parent
        else:
            parents = np.full(times.size, -1)
        base = event
        desc_i = rng.integers(0, len(t.descriptions), times.size)
        for i in range(times.size):
            calls.append(
                Call(
                    int(times[i]),
                    float(lat[i]),
                    float(lon[i]),
                    t.code,
                    t.priority,
                    t.descriptions[desc_i[i]],
                    event,
                    parent_event=None if parents[i] < 0 else base + int(parents[i]),
                )
            )
            event += 1
    # Duplicates: other callers about the same event, minutes later and a little way off.
    dups: list[Call] = []
    for c in calls:
        p = TYPE_BY_CODE[c.type].duplicate
        if p and rng.random() < p:
            for _ in range(1 + int(rng.poisson(0.5))):
                dx, dy = rng.normal(0, 60, 2)
                x, y = geo.frame.to_xy(c.lat, c.lon)
                la, lo = geo.frame.to_latlon(x + dx, y + dy)
                dups.append(
                    Call(
                        c.ts + int(rng.integers(30, 600)),
                        float(la),
                        float(lo),
                        c.type,
                        c.priority,
                        DUP_DESCRIPTIONS[int(rng.integers(0, 3))] + c.description,
                        c.event,
                        parent_event=c.parent_event,
                        duplicate=True,
                    )
                )
    calls.extend(dups)
    # Occasionally the call taker grades an incident up one colour (weapons, injuries mentioned).
    for c in calls:
        if rng.random() < 0.03:
            c.priority = PRIORITIES[max(PRIORITIES.index(c.priority) - 1, 0)]
    calls = [c for c in calls if c.ts < days * 86400]
    info = {
        "expected_per_type": expected,
        "calls_per_day": calls_per_day,
        "near_repeat": {
            **near_repeat.as_dict(),
            "burglaries": sum(1 for c in calls if c.type == "burglary" and not c.duplicate),
            "planted": sum(1 for c in calls if c.parent_event is not None and not c.duplicate),
        },
    }
    return calls, info


def assign_ids(calls: list[Call], start_local_date: Any) -> list[Call]:
    """Sort by time and number calls per local day: ``J`` + date + 5-digit sequence."""
    import datetime as dt

    calls.sort(key=lambda c: (c.ts, c.event, c.lat))
    seq: dict[int, int] = {}
    for c in calls:
        day = c.ts // 86400
        seq[day] = seq.get(day, 0) + 1
        date = start_local_date + dt.timedelta(days=int(day))
        c.call_id = f"J{date:%Y%m%d}{seq[day]:05d}"
    return calls


def hourly_counts(calls: list[Call], days: int) -> np.ndarray:
    """Calls per hour of the period (for rhythm checks)."""
    ts = np.array([c.ts for c in calls], dtype=np.int64)
    return np.bincount(ts // HOUR_S, minlength=days * 24)[: days * 24]
