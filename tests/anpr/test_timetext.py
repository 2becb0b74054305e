"""Times as ISO text: the compiled formatter against NumPy's datetime64 text and known answers."""

from __future__ import annotations

import numpy as np
import pytest

from precinct.anpr.timetext import iso_many


def _numpy_iso(us: np.ndarray) -> list[str]:
    t = us.astype("datetime64[us]")
    text = np.where(us % 1_000_000 == 0, np.datetime_as_string(t, unit="s"), np.datetime_as_string(t, unit="us"))
    return [f"{x}Z" for x in text.tolist()]


def test_known_answers() -> None:
    assert iso_many([0, 951_782_400_000_000, 4_102_444_799_999_999, 1_773_728_805_333_240, -1]) == [
        "1970-01-01T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "2099-12-31T23:59:59.999999Z",
        "2026-03-17T06:26:45.333240Z",
        "1969-12-31T23:59:59.999999Z",
    ]
    assert iso_many([]) == []


def test_equals_numpy_over_the_whole_range() -> None:
    rng = np.random.default_rng(4)
    us = rng.integers(-62_135_596_800 * 10**6, 253_402_300_799 * 10**6, 100_000)
    us[::3] -= us[::3] % 1_000_000  # a third whole seconds
    assert iso_many(us) == _numpy_iso(us)


def test_outside_years_1_to_9999_is_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.\.9999"):
        iso_many([253_402_300_800 * 10**6])
