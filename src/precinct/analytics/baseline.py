"""Expected accidents per (road segment or cell) x hour of week, shrunk to the segment's mean.

Most segments see a handful of accidents a year, so the raw count of one hour of the week (168
of them) is mostly zeros and ones: too noisy to be a baseline. Each hour's rate is therefore a
Gamma-Poisson (empirical-Bayes style) compromise between that hour's own history and the
segment's mean over all hours:

    lambda[u, h] = (n[u, h] + k * m[u]) / (W + k) + floor / 168

- ``n[u, h]``: accidents of unit ``u`` in hour of week ``h`` during the ``W`` baseline weeks;
- ``m[u] = N[u] / (168 W)``: the unit's mean per hour slot and week (``N[u]`` its baseline total);
- ``k`` (``prior_weeks``): how many weeks of evidence the segment mean is worth. This is the
  posterior mean of a Poisson rate under a Gamma prior with mean ``m[u]`` and ``k`` weeks of
  exposure. A slot with little data stays near the segment mean; one with many weeks of history
  follows its own count. ``k = 0`` is the raw hourly rate, ``k -> inf`` the flat segment mean;
- ``floor`` (per week, spread evenly over the hours) keeps a segment with no history from being
  flagged by a single crash.

Summed over the week the shrinkage cancels: ``sum_h lambda[u, h] = N[u] / W + floor``, the
per-segment weekly baseline, so a 7-day window has the same expected total as before; windows that
are not whole weeks, and the per-hour evidence, use the hourly shape. Places and times only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from precinct.errors import BadInput

HOURS_OF_WEEK = 168
FloatArray = npt.NDArray[np.float64]


def hour_of_week(ts: np.ndarray) -> npt.NDArray[np.int64]:
    """0 = Monday 00:00-01:00 ... 167 = Sunday 23:00-24:00."""
    secs = ts.astype("datetime64[s]").astype(np.int64)
    return np.asarray(((secs // 86400 + 3) % 7) * 24 + (secs // 3600) % 24, dtype=np.int64)


def hourly_baseline(units: npt.NDArray[np.int64], how: npt.NDArray[np.int64], *, n_units: int, weeks: float,
                    prior_weeks: float = 4.0, floor_per_week: float = 0.0) -> FloatArray:
    """Expected accidents per week for every (unit, hour of week), shrunk to the unit's mean.

    Parameters
    ----------
    units : numpy.ndarray
        Unit (segment or cell) of each baseline accident, ``0 <= unit < n_units``.
    how : numpy.ndarray
        Hour of week of each baseline accident (:func:`hour_of_week`).
    n_units : int
        Number of units.
    weeks : float
        Length of the baseline in weeks (``W``).
    prior_weeks : float
        Weight ``k`` of the unit's mean, in weeks of evidence (>= 0).
    floor_per_week : float
        Added per unit and week, spread evenly over the 168 hours.

    Returns
    -------
    numpy.ndarray
        ``(n_units, 168)`` expected accidents per week in each hour slot.
    """
    if not weeks > 0 or not prior_weeks >= 0 or not floor_per_week >= 0:
        raise BadInput("baseline weeks must be positive, prior weeks and floor not negative",
                       detail={"field": "prior_weeks"})
    n = np.zeros((n_units, HOURS_OF_WEEK))
    np.add.at(n, (units, how), 1.0)
    mean = n.sum(axis=1, keepdims=True) / (HOURS_OF_WEEK * weeks)
    return np.asarray((n + prior_weeks * mean) / (weeks + prior_weeks) + floor_per_week / HOURS_OF_WEEK)


def window_hours(start: np.datetime64, end: np.datetime64) -> FloatArray:
    """How many hours of ``[start, end)`` fall in each hour of week (fractions at the ends)."""
    a = int(start.astype("datetime64[s]").astype(np.int64))
    b = int(end.astype("datetime64[s]").astype(np.int64))
    out = np.zeros(HOURS_OF_WEEK)
    if b <= a:
        return out
    first = a // 3600
    for hr in range(first, (b - 1) // 3600 + 1):
        lo, hi = max(a, hr * 3600), min(b, (hr + 1) * 3600)
        out[((hr // 24 + 3) % 7) * 24 + hr % 24] += (hi - lo) / 3600.0
    return out
