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
    """The formatting pass, compiled with numba on first use and cached on disk.

    One function, calling no other compiled function: numba keys a cached function that calls
    another (here formerly a ``_digits`` helper defined in this closure) by that callee's
    identity, which is new in every process, so the cache never matched and every fresh process
    compiled it again (about 2 s of a cold association)."""
    global _KERNEL
    if _KERNEL is None:
        import numba

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
                # fields as (value, position of its last digit, width): YYYY-MM-DDTHH:MM:SS
                for f in range(6):
                    if f == 0:
                        v, last, w = year, 3, 4
                    elif f == 1:
                        v, last, w = month, 6, 2
                    elif f == 2:
                        v, last, w = day, 9, 2
                    elif f == 3:
                        v, last, w = rem // 3600, 12, 2
                    elif f == 4:
                        v, last, w = (rem // 60) % 60, 15, 2
                    else:
                        v, last, w = rem % 60, 18, 2
                    for k in range(w):
                        out[i, last - k] = 48 + v % 10
                        v //= 10
                out[i, 4] = 45  # -
                out[i, 7] = 45
                out[i, 10] = 84  # T
                out[i, 13] = 58  # :
                out[i, 16] = 58
                if frac == 0:
                    out[i, 19] = 90  # Z
                else:
                    out[i, 19] = 46  # .
                    v = frac
                    for k in range(6):
                        out[i, 25 - k] = 48 + v % 10
                        v //= 10
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
