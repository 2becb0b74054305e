"""Rolling-origin evaluation of the place-based forecasts: hit rate and PAI against the KDE baseline.

For each origin (the last ``origins`` windows of ``test_days``, newest last), every method is
trained on the ``train_days`` before the origin and ranks the cells for the next ``test_days``; the
top ``area_share`` of the study area is "flagged". Pooled over origins:

- hit rate = test events in flagged cells / all test events;
- PAI (predictive accuracy index, Chainey et al. 2008) = hit rate / flagged share of the area.

The study area is every grid cell in which the input has at least one event (a city's recorded
crime area, not the empty corners of its bounding box), the same for every method and origin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from precinct.analytics.events import Events
from precinct.analytics.forecast import METHODS, Train, forecast, top_cells
from precinct.analytics.grid import Grid
from precinct.errors import BadInput


def evaluate(events: Events, *, cell_m: float, train_days: float = 365.0, test_days: float = 7.0,
             origins: int = 8, area_shares: Sequence[float] = (0.05,), methods: Sequence[str] = METHODS,
             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Evaluate each method on a rolling origin.

    Parameters
    ----------
    events : Events
        All events (training and test windows are cut from them).
    cell_m : float
        Cell size in metres.
    train_days, test_days : float
        Length of each training window and forecast window.
    origins : int
        Number of forecast origins (consecutive test windows ending at the last event's day).
    area_shares : sequence of float
        Shares of the study area to flag (e.g. 0.01 and 0.05); the first is reported as
        ``hit_rate`` / ``pai``, all under ``by_area_share``.
    methods : sequence of str
        Among ``kde``, ``retrospective``, ``prospective``, ``sepp``.
    progress : callable, optional
        ``progress(done, total)`` over origin x method fits.

    Returns
    -------
    dict
        ``{"cell_m", "train_days", "test_days", "area_share", "study_cells", "origins": [...],
        "methods": [{"method", "hit_rate", "pai", "pai_vs_kde", "by_origin", "by_area_share"}]}``.
    """
    if not (train_days > 0 and test_days > 0) or not 1 <= origins <= 520:
        raise BadInput("train and test days must be positive and origins 1-520", detail={"field": "origins"})
    shares = [float(s) for s in area_shares]
    if not shares or not all(0 < s < 1 for s in shares):
        raise BadInput("area share must be between 0 and 1", detail={"field": "area_share"})
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise BadInput(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}", detail={"field": "methods"})
    grid = Grid.covering(events.x, events.y, cell_m=cell_m, crs=events.crs)
    origin_day = events.ts.min().astype("datetime64[D]")
    t = events.days(origin_day)
    end = float(np.floor(t.max())) + 1.0
    starts = [end - k * test_days for k in range(origins, 0, -1)]
    if starts[0] - train_days < 0:
        raise BadInput(f"the data cover {end:g} days: too short for {origins} origins of {test_days:g} days "
                       f"after {train_days:g} training days", detail={"field": "train_days"})
    cells = grid.locate(events.x, events.y)
    study = np.flatnonzero(np.bincount(cells, minlength=grid.n) > 0)
    ks = [max(1, round(s * study.size)) for s in shares]
    hits = {m: np.zeros((len(starts), len(shares))) for m in methods}
    totals = np.zeros(len(starts))
    total_steps, done = len(starts) * len(methods), 0
    for o, t0 in enumerate(starts):
        train = (t >= t0 - train_days) & (t < t0)
        test = (t >= t0) & (t < t0 + test_days)
        if train.sum() < 10:
            raise BadInput(f"origin {o + 1}: fewer than 10 training events", detail={"field": "train_days"})
        tr = Train(events.x[train], events.y[train], t[train])
        test_counts = np.bincount(cells[test], minlength=grid.n)
        totals[o] = test_counts.sum()
        for m in methods:
            scores = forecast(m, grid, tr, t0, test_days)
            for s_i, k in enumerate(ks):
                hits[m][o, s_i] = test_counts[top_cells(scores, study, k)].sum()
            done += 1
            if progress is not None:
                progress(done, total_steps)
    flagged = [k / study.size for k in ks]
    n_test = max(float(totals.sum()), 1.0)
    rows: list[dict[str, Any]] = []
    for m in methods:
        by_share = []
        for s_i, share in enumerate(shares):
            hr = float(hits[m][:, s_i].sum() / n_test)
            by_share.append({"area_share": share, "flagged_share": flagged[s_i], "hit_rate": hr,
                             "pai": hr / flagged[s_i]})
        by_origin = [{"origin": str(origin_day + np.timedelta64(round(t0 * 86400), "s")),
                      "test_events": int(totals[o]),
                      "hit_rate": float(hits[m][o, 0] / totals[o]) if totals[o] else None}
                     for o, t0 in enumerate(starts)]
        rows.append({"method": m, "hit_rate": by_share[0]["hit_rate"], "pai": by_share[0]["pai"],
                     "by_area_share": by_share, "by_origin": by_origin})
    base = next((float(r["pai"]) for r in rows if r["method"] == "kde"), 0.0)
    for r in rows:
        r["pai_vs_kde"] = float(r["pai"]) / base if base > 0 else None
    return {"crs": events.crs, "cell_m": float(cell_m), "train_days": float(train_days),
            "test_days": float(test_days), "area_share": shares[0], "study_cells": int(study.size),
            "flagged_cells": ks[0], "test_events": int(totals.sum()),
            "origins": [str(origin_day + np.timedelta64(round(t0 * 86400), "s")) for t0 in starts],
            "methods": rows}
