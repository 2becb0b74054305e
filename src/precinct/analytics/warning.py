"""Traffic-accident early warning (交通事故预警): places whose recent accidents exceed their baseline.

Accidents are counted per road segment of the city network (``graph`` given: nearest physical
segment within 50 m; accidents off the network are reported as ``unsnapped``) or per grid cell,
and per hour of week. A segment (or cell) is flagged when its count in the recent window is improbable
under a Poisson baseline: the cell's mean over the previous ``baseline_weeks`` weeks (plus a small
floor so a cell with no history is not flagged by one crash), with ``P(X >= observed) <= alpha``
and at least ``min_count`` accidents. The evidence (observed, expected, p, the busiest hours of
week) goes with each flag. Places and times only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import poisson

from precinct.analytics.baseline import hour_of_week, hourly_baseline, window_hours
from precinct.analytics.events import Events, to_wgs84
from precinct.analytics.grid import Grid
from precinct.errors import BadInput

ACCIDENT_WORDS = ("traffic", "accident", "crash", "collision", "事故")


def is_accident(kind: str) -> bool:
    """Whether an incident type code names a traffic accident."""
    k = kind.lower()
    return any(w in k for w in ACCIDENT_WORDS)




def accident_warning(events: Events, *, until: np.datetime64, cell_m: float = 250.0, recent_days: int = 7,
                     baseline_weeks: int = 12, alpha: float = 0.01, min_count: int = 3,
                     floor_per_week: float = 0.1, graph: Any = None, max_snap_m: float = 50.0,
                     prior_weeks: float = 4.0) -> dict[str, Any]:
    """Flag cells whose accidents in ``[until - recent_days, until)`` exceed their Poisson baseline.

    Parameters
    ----------
    events : Events
        Incidents; only accident types (:func:`is_accident`) are used.
    until : numpy.datetime64
        End of the recent window.
    cell_m, recent_days, baseline_weeks, alpha, min_count, floor_per_week
        Grid cell size; recent window; baseline length before it; the control limit; the smallest
        flagged count; the baseline floor (accidents per week per cell).
    graph : precinct.city.RoadGraph, optional
        Count per road segment of this network instead of per grid cell.
    max_snap_m : float
        With ``graph``: accidents farther than this from every road are not assigned.
    prior_weeks : float
        Shrinkage of each hour-of-week rate to the unit's mean (:mod:`precinct.analytics.baseline`).

    Returns
    -------
    dict
        ``{"window", "flagged": [{"cell_id" | "edge", "lat", "lon", "observed", "expected", "p",
        "peak_hours_of_week", "hours": [{"hour_of_week", "observed", "expected"}]}],
        "accidents_recent", "accidents_baseline"}``; ``expected`` sums the unit's hour-of-week
        baseline over the hours of the recent window, ``hours`` the window's hours with the most
        accidents above their expectation.
    """
    acc = events.select(np.array([is_accident(str(k)) for k in events.types], dtype=bool))
    if len(acc) == 0:
        raise BadInput("no traffic accidents among the incidents (types naming traffic, accident or crash)")
    end = until.astype("datetime64[s]")
    start = end - np.timedelta64(recent_days, "D")
    base0 = start - np.timedelta64(7 * baseline_weeks, "D")
    recent = (acc.ts >= start) & (acc.ts < end)
    base = (acc.ts >= base0) & (acc.ts < start)
    unsnapped = 0
    if graph is not None:
        from precinct.analytics.segments import segment_midpoints, snap_segments

        units = snap_segments(acc, graph, max_distance_m=max_snap_m)
        n_units = int(graph.segment_edges.size)
        unsnapped = int(((units < 0) & (recent | base)).sum())
        recent, base = recent & (units >= 0), base & (units >= 0)
    else:
        grid = Grid.covering(acc.x, acc.y, cell_m=cell_m, crs=acc.crs)
        units, n_units = grid.locate(acc.x, acc.y), grid.n
    obs = np.bincount(units[recent], minlength=n_units)
    how = hour_of_week(acc.ts)
    lam = hourly_baseline(units[base], how[base], n_units=n_units, weeks=baseline_weeks, prior_weeks=prior_weeks,
                          floor_per_week=floor_per_week)
    occ = window_hours(start, end)  # each hour slot occurs once a week: hours in the window per slot
    expected = lam @ occ
    p = poisson.sf(obs - 1, expected)
    flag = np.flatnonzero((obs >= min_count) & (p <= alpha))
    flag = flag[np.argsort(p[flag], kind="stable")]
    if graph is not None:
        lat, lon = segment_midpoints(graph, flag)
        where: list[dict[str, Any]] = [{"edge": int(graph.segment_edges[u])} for u in flag]
    else:
        cx, cy = grid.centres()
        lat, lon = to_wgs84(cx[flag], cy[flag], grid.crs) if flag.size else (np.zeros(0), np.zeros(0))
        where = [{"cell_id": int(u), "x": float(cx[u]), "y": float(cy[u])} for u in flag]
    out = []
    for k, u in enumerate(flag):
        hw = np.bincount(how[(units == u) & (recent | base)], minlength=168)
        now_h = np.bincount(how[(units == u) & recent], minlength=168)
        excess = now_h - lam[u] * occ
        top = [int(h) for h in np.argsort(-excess, kind="stable")[:3] if now_h[h] > 0]
        out.append({**where[k], "lat": float(lat[k]), "lon": float(lon[k]), "observed": int(obs[u]),
                    "expected": float(expected[u]), "p": float(p[u]), "rank": k + 1,
                    "peak_hours_of_week": [int(h) for h in np.argsort(-hw, kind="stable")[:3] if hw[h] > 0],
                    "hours": [{"hour_of_week": h, "observed": int(now_h[h]), "expected": float(lam[u, h] * occ[h])}
                              for h in top]})
    return {"crs": acc.crs, "unit": "segment" if graph is not None else "cell", "cell_m": float(cell_m),
            "unsnapped": unsnapped, "window": [str(start), str(end)],
            "baseline": [str(base0), str(start)],
            "baseline_model": f"unit x hour of week, shrunk to the unit mean (prior {prior_weeks:g} weeks), "
            f"floor {floor_per_week:g}/week", "rule": f"Poisson P(X >= observed) <= {alpha}, observed >= "
            f"{min_count}", "accidents_recent": int(recent.sum()), "accidents_baseline": int(base.sum()),
            "flagged": out}
