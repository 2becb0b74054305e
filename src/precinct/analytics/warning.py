"""Traffic-accident early warning (交通事故预警): places whose recent accidents exceed their baseline.

Accidents are counted per grid cell (a stand-in for road segments: the segment layer is not wired
yet) and per hour of week. A cell is flagged when its count in the recent window is improbable
under a Poisson baseline: the cell's mean over the previous ``baseline_weeks`` weeks (plus a small
floor so a cell with no history is not flagged by one crash), with ``P(X >= observed) <= alpha``
and at least ``min_count`` accidents. The evidence (observed, expected, p, the busiest hours of
week) goes with each flag. Places and times only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import poisson

from precinct.analytics.events import Events, to_wgs84
from precinct.analytics.grid import Grid
from precinct.errors import BadInput

ACCIDENT_WORDS = ("traffic", "accident", "crash", "collision", "事故")


def is_accident(kind: str) -> bool:
    """Whether an incident type code names a traffic accident."""
    k = kind.lower()
    return any(w in k for w in ACCIDENT_WORDS)


def hour_of_week(ts: np.ndarray) -> np.ndarray:
    """0 = Monday 00:00-01:00 ... 167 = Sunday 23:00-24:00."""
    secs = ts.astype("datetime64[s]").astype(np.int64)
    return np.asarray(((secs // 86400 + 3) % 7) * 24 + (secs // 3600) % 24)


def accident_warning(events: Events, *, until: np.datetime64, cell_m: float = 250.0, recent_days: int = 7,
                     baseline_weeks: int = 12, alpha: float = 0.01, min_count: int = 3,
                     floor_per_week: float = 0.1) -> dict[str, Any]:
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

    Returns
    -------
    dict
        ``{"window", "cells_flagged": [{"cell_id", "lat", "lon", "observed", "expected", "p",
        "peak_hours_of_week"}], "accidents_recent", "accidents_baseline"}``.
    """
    acc = events.select(np.array([is_accident(str(k)) for k in events.types], dtype=bool))
    if len(acc) == 0:
        raise BadInput("no traffic accidents among the incidents (types naming traffic, accident or crash)")
    end = until.astype("datetime64[s]")
    start = end - np.timedelta64(recent_days, "D")
    base0 = start - np.timedelta64(7 * baseline_weeks, "D")
    grid = Grid.covering(acc.x, acc.y, cell_m=cell_m, crs=acc.crs)
    cells = grid.locate(acc.x, acc.y)
    recent = (acc.ts >= start) & (acc.ts < end)
    base = (acc.ts >= base0) & (acc.ts < start)
    obs = np.bincount(cells[recent], minlength=grid.n)
    expected = (np.bincount(cells[base], minlength=grid.n) / baseline_weeks + floor_per_week) * (recent_days / 7)
    p = poisson.sf(obs - 1, expected)
    flag = np.flatnonzero((obs >= min_count) & (p <= alpha))
    cx, cy = grid.centres()
    lat, lon = to_wgs84(cx[flag], cy[flag], grid.crs) if flag.size else (np.zeros(0), np.zeros(0))
    how = hour_of_week(acc.ts)
    out = []
    for k, c in enumerate(flag[np.argsort(p[flag])]):
        hw = np.bincount(how[(cells == c) & (recent | base)], minlength=168)
        idx = int(np.flatnonzero(flag == c)[0])
        out.append({"cell_id": int(c), "x": float(cx[c]), "y": float(cy[c]), "lat": float(lat[idx]),
                    "lon": float(lon[idx]), "observed": int(obs[c]), "expected": float(expected[c]),
                    "p": float(p[c]), "rank": k + 1,
                    "peak_hours_of_week": [int(h) for h in np.argsort(-hw, kind="stable")[:3] if hw[h] > 0]})
    return {"crs": grid.crs, "cell_m": float(cell_m), "window": [str(start), str(end)],
            "baseline": [str(base0), str(start)], "rule": f"Poisson P(X >= observed) <= {alpha}, observed >= "
            f"{min_count}", "accidents_recent": int(recent.sum()), "accidents_baseline": int(base.sum()),
            "cells_flagged": out}
