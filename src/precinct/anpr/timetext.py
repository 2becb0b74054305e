"""Epoch microseconds as ISO 8601 UTC text, for tens of thousands of values at once.

An answer of 40,000 vehicles carries 80,000 first/last-seen times; NumPy's
``datetime_as_string`` took about 0.6 µs each (a quarter of a whole association). One compiled
pass writes the characters instead: the civil date from the day number (H. Hinnant's
``civil_from_days``), then the time of day, seconds only when the value is a whole second
(``2026-03-02T08:00:00Z``), microseconds otherwise (``2026-03-02T08:00:00.250000Z``).

This is not a second time format: it writes the text :func:`precinct.core.timeutil.to_iso` writes,
as a measured fast path for whole arrays (the project's one parse/format module is core.timeutil).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

WIDTH = 27  # YYYY-MM-DDTHH:MM:SS.ffffffZ
_KERNEL: Any = None


def _kernel() -> Any:
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=True, nogil=True)
        def _digits(out, i, pos, value, width):  # type: ignore[no-untyped-def]
            for k in range(width - 1, -1, -1):
                out[i, pos + k] = 48 + value % 10
                value //= 10

        @numba.njit(cache=True, nogil=True)
        def fill(us, out):  # type: ignore[no-untyped-def]
            ok = True
            for i in range(len(us)):
                sec = us[i] // 1_000_000
                frac = us[i] - sec * 1_000_000
                days = sec // 86_400
                rem = sec - days * 86_400
                z = days + 719_468
                era = z // 146_097
                doe = z - era * 146_097
                yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
                doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
                mp = (5 * doy + 2) // 153
                day = doy - (153 * mp + 2) // 5 + 1
                month = mp + 3 if mp < 10 else mp - 9
                year = yoe + era * 400 + (1 if month <= 2 else 0)
                if year < 1 or year > 9999:
                    ok = False
                    continue
                _digits(out, i, 0, year, 4)
                out[i, 4] = 45  # -
                _digits(out, i, 5, month, 2)
                out[i, 7] = 45
                _digits(out, i, 8, day, 2)
                out[i, 10] = 84  # T
                _digits(out, i, 11, rem // 3600, 2)
                out[i, 13] = 58  # :
                _digits(out, i, 14, (rem // 60) % 60, 2)
                out[i, 16] = 58
                _digits(out, i, 17, rem % 60, 2)
                if frac == 0:
                    out[i, 19] = 90  # Z
                else:
                    out[i, 19] = 46  # .
                    _digits(out, i, 20, frac, 6)
                    out[i, 26] = 90
            return ok

        _KERNEL = fill
    return _KERNEL


def iso_many(ts_us: Sequence[int] | np.ndarray) -> list[str]:
    """ISO 8601 UTC text of epoch microseconds (``...Z``; microseconds only when not whole).

    Parameters
    ----------
    ts_us : sequence of int or numpy.ndarray
        Microseconds since 1970-01-01 UTC, years 1..9999.

    Returns
    -------
    list of str
        One text per value, in order.
    """
    if len(ts_us) == 0:
        return []
    us = np.ascontiguousarray(ts_us, dtype=np.int64)
    out = np.zeros((len(us), WIDTH), dtype=np.uint8)  # NUL-padded: NumPy drops trailing NULs
    if not _kernel()(us, out):
        raise ValueError("time outside the years 1..9999")
    text: list[str] = out.view(f"S{WIDTH}").ravel().astype(f"U{WIDTH}").tolist()
    return text
