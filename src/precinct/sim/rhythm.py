"""Daily and weekly rhythms, and sampling event times from a piecewise-constant intensity.

Each profile is 24 relative hourly weights (normalised to mean 1), so a type's expected calls in
hour ``h`` of weekday ``d`` are ``rate_per_day / 24 * HOURLY[profile][h] * WEEKLY[profile][d]``.
Because the intensity is constant within an hour, drawing a Poisson count per hour and placing the
events uniformly inside it samples the inhomogeneous Poisson process exactly.
"""

from __future__ import annotations

import numpy as np

HOUR_S = 3600
DAY_S = 86400


def _norm(values: list[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    return arr / arr.mean()


# Shapes follow the usual 110 pattern: a trough at 04-06, rising through the morning, an evening
# peak; "night" types (burglary, fights) peak after dark, "traffic" has the two rush hours.
HOURLY: dict[str, np.ndarray] = {
    "flat": _norm([1.0] * 24),
    "day": _norm(
        [
            0.3,
            0.2,
            0.15,
            0.1,
            0.1,
            0.15,
            0.4,
            0.8,
            1.2,
            1.5,
            1.6,
            1.6,
            1.4,
            1.4,
            1.5,
            1.6,
            1.6,
            1.5,
            1.3,
            1.1,
            0.9,
            0.7,
            0.5,
            0.4,
        ]
    ),
    "evening": _norm(
        [
            0.7,
            0.5,
            0.3,
            0.2,
            0.15,
            0.15,
            0.3,
            0.5,
            0.7,
            0.8,
            0.9,
            1.0,
            1.0,
            1.0,
            1.0,
            1.1,
            1.2,
            1.4,
            1.7,
            1.9,
            2.0,
            1.9,
            1.5,
            1.1,
        ]
    ),
    "night": _norm(
        [
            1.8,
            1.7,
            1.5,
            1.2,
            0.8,
            0.5,
            0.4,
            0.4,
            0.5,
            0.6,
            0.6,
            0.7,
            0.7,
            0.7,
            0.7,
            0.8,
            0.9,
            1.0,
            1.2,
            1.4,
            1.6,
            1.8,
            2.0,
            2.0,
        ]
    ),
    "traffic": _norm(
        [
            0.2,
            0.1,
            0.08,
            0.08,
            0.1,
            0.3,
            0.9,
            1.9,
            2.0,
            1.3,
            1.1,
            1.1,
            1.2,
            1.1,
            1.1,
            1.2,
            1.5,
            2.0,
            1.9,
            1.2,
            0.8,
            0.6,
            0.4,
            0.3,
        ]
    ),
}

# Monday .. Sunday.
WEEKLY: dict[str, np.ndarray] = {
    "flat": np.ones(7),
    "day": np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 0.9]),
    "evening": np.array([0.9, 0.9, 0.9, 0.95, 1.1, 1.25, 1.1]),
    "night": np.array([0.85, 0.85, 0.9, 0.95, 1.15, 1.3, 1.1]),
    "traffic": np.array([1.1, 1.05, 1.05, 1.05, 1.15, 0.8, 0.75]),
}


def hourly_intensity(profile: str, start_weekday: int, days: int) -> np.ndarray:
    """Relative intensity for each hour of a period (mean about 1).

    Parameters
    ----------
    profile
        A key of :data:`HOURLY`.
    start_weekday
        Weekday of the first day, Monday = 0.
    days
        Number of days.

    Returns
    -------
    numpy.ndarray
        ``days * 24`` relative weights.
    """
    hourly = HOURLY[profile]
    weekly = WEEKLY[profile]
    dows = (start_weekday + np.arange(days)) % 7
    return (weekly[dows][:, None] * hourly[None, :]).ravel()


def sample_times(rng: np.random.Generator, intensity_per_hour: np.ndarray) -> np.ndarray:
    """Event times (seconds from the period start, sorted) of an inhomogeneous Poisson process.

    Parameters
    ----------
    rng
        Random generator.
    intensity_per_hour
        Expected events in each hour.

    Returns
    -------
    numpy.ndarray
        int64 seconds, sorted.
    """
    counts = rng.poisson(intensity_per_hour)
    hours = np.repeat(np.arange(intensity_per_hour.size, dtype=np.int64), counts)
    times = hours * HOUR_S + rng.integers(0, HOUR_S, size=hours.size)
    return np.sort(times)


def sample_hours_of_day(rng: np.random.Generator, profile: str, n: int) -> np.ndarray:
    """``n`` times of day (seconds since midnight) drawn from an hourly profile.

    Used for trip departures, whose count per day is fixed by the population rather than Poisson.
    """
    p = HOURLY[profile] / HOURLY[profile].sum()
    hours = rng.choice(24, size=n, p=p)
    return hours.astype(np.int64) * HOUR_S + rng.integers(0, HOUR_S, size=n)
