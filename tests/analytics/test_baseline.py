"""The accident baseline per (segment, hour of week), shrunk to the segment mean, against brute force."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from precinct.analytics.baseline import hour_of_week, hourly_baseline, window_hours
from precinct.analytics.events import from_arrays
from precinct.analytics.warning import accident_warning


def _brute_baseline(units: list[int], stamps: list[dt.datetime], n_units: int, weeks: float, k: float,
                    floor: float) -> list[list[float]]:
    """Loops and the calendar: n[u][h] from datetime.weekday()/hour, then the documented formula."""
    n = [[0] * 168 for _ in range(n_units)]
    for u, s in zip(units, stamps, strict=True):
        n[u][s.weekday() * 24 + s.hour] += 1
    out = []
    for u in range(n_units):
        mean = sum(n[u]) / (168 * weeks)
        out.append([(n[u][h] + k * mean) / (weeks + k) + floor / 168 for h in range(168)])
    return out


def _stamps(rng: np.random.Generator, n: int, start: dt.datetime, days: float) -> list[dt.datetime]:
    return [start + dt.timedelta(seconds=int(s)) for s in rng.uniform(0, days * 86400, n)]


@pytest.mark.parametrize("k", [0.0, 4.0, 52.0])
def test_hourly_baseline_equals_brute_force(k: float) -> None:
    rng = np.random.default_rng(int(k))
    start = dt.datetime(2026, 8, 3)  # a Monday
    stamps = _stamps(rng, 700, start, 84)
    units = rng.integers(0, 9, 700).tolist()
    ts = np.array([np.datetime64(s, "s") for s in stamps])
    assert hour_of_week(ts).tolist() == [s.weekday() * 24 + s.hour for s in stamps]
    lam = hourly_baseline(np.array(units), hour_of_week(ts), n_units=10, weeks=12, prior_weeks=k, floor_per_week=0.1)
    want = np.array(_brute_baseline(units, stamps, 10, 12, k, 0.1))
    np.testing.assert_allclose(lam, want, rtol=1e-12, atol=1e-15)
    # The week's total is the per-segment baseline whatever the shrinkage; unit 9 (no history) gets the floor.
    np.testing.assert_allclose(lam.sum(axis=1), np.bincount(units, minlength=10) / 12 + 0.1, rtol=1e-12)
    if k == 0:
        np.testing.assert_allclose(lam[9], 0.1 / 168)


def test_shrinkage_pulls_thin_slots_to_the_segment_mean() -> None:
    # One segment, three accidents all on Monday 08:00: raw says 1/4 per week there and 0 elsewhere.
    how = np.array([8, 8, 8])
    raw = hourly_baseline(np.zeros(3, dtype=np.int64), how, n_units=1, weeks=12, prior_weeks=0)
    shrunk = hourly_baseline(np.zeros(3, dtype=np.int64), how, n_units=1, weeks=12, prior_weeks=12)
    flat = 3 / 12 / 168
    assert raw[0, 8] == pytest.approx(0.25) and raw[0, 9] == 0
    assert shrunk[0, 8] == pytest.approx((3 + 12 * flat) / 24) and shrunk[0, 9] == pytest.approx(flat / 2)
    assert flat < shrunk[0, 8] < raw[0, 8]


def test_window_hours_counts_each_hour_of_week() -> None:
    a, b = dt.datetime(2026, 11, 27, 22, 30), dt.datetime(2026, 11, 30, 1, 15)  # Fri 22:30 to Mon 01:15
    occ = window_hours(np.datetime64(a, "s"), np.datetime64(b, "s"))
    want = np.zeros(168)
    t = a
    while t < b:  # minute by minute
        want[t.weekday() * 24 + t.hour] += 1 / 60
        t += dt.timedelta(minutes=1)
    np.testing.assert_allclose(occ, want, atol=1e-9)
    assert occ.sum() == pytest.approx((b - a).total_seconds() / 3600)


def test_warning_expects_the_hours_of_its_window() -> None:
    rng = np.random.default_rng(5)
    start = dt.datetime(2026, 8, 3)
    n = 900
    stamps = _stamps(rng, n, start, 87)  # 12 baseline weeks, then a 3-day window
    x = rng.integers(0, 4, n) * 1000.0 + 440_125.0  # four cells of 250 m, far apart
    y = np.full(n, 4_400_125.0)
    ts = np.array([np.datetime64(s, "s") for s in stamps])
    ev = from_arrays(x=x, y=y, ts=ts, types=np.full(n, "traffic_accident"), crs="EPSG:32650")
    until = np.datetime64(start + dt.timedelta(days=87), "s")
    out = accident_warning(ev, until=until, cell_m=250, recent_days=3, baseline_weeks=12, alpha=1.0, min_count=0,
                           prior_weeks=4)
    base_end = start + dt.timedelta(days=84)
    cols = ((x - 440_000) // 250).astype(int)
    in_base = [s < base_end for s in stamps]
    units = [int(c) for c, ok in zip(cols, in_base, strict=True) if ok]
    lam = np.array(_brute_baseline(units, [s for s, ok in zip(stamps, in_base, strict=True) if ok], 13, 12, 4, 0.1))
    occ = np.zeros(168)
    t = base_end
    while t < base_end + dt.timedelta(days=3):
        occ[t.weekday() * 24 + t.hour] += 1
        t += dt.timedelta(hours=1)
    got = {int(f["cell_id"]): f["expected"] for f in out["flagged"]}
    assert sorted(got) == list(range(13))  # alpha 1, min count 0: every cell, its evidence attached
    for c, e in got.items():
        assert e == pytest.approx(float(lam[c] @ occ), rel=1e-9)
    assert got[1] == pytest.approx(0.1 * 3 / 7) and got[4] > 10 * got[1]
    assert "hour of week" in out["baseline_model"]
