"""ISO 8601 times, written once: parse (offset required, or ``Z``), format (UTC with ``Z``), now.

Every domain reads and writes times through these three functions, so an API answer, a CSV row
and a log line spell a time the same way. (The ANPR answers' vectorised formatter,
:mod:`precinct.anpr.timetext`, writes the same text as :func:`to_iso` for tens of thousands of
values at once; it is a measured fast path, not another format.)
"""

from __future__ import annotations

import datetime as dt

from precinct.errors import BadInput

NOT_ISO = "not an ISO 8601 time"
NO_OFFSET = "needs a timezone offset (or Z), e.g. 2026-05-01T08:30:00+08:00"


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def parse_iso(text: str, *, naive_as_utc: bool = False) -> dt.datetime:
    """Parse ISO 8601 text (``Z``/``z`` or an offset) into a timezone-aware UTC datetime.

    Parameters
    ----------
    text : str
        E.g. ``2026-05-01T08:30:00+08:00`` or ``2026-05-01T00:30:00Z``; surrounding blanks ignored.
    naive_as_utc : bool
        Read a time without an offset as UTC instead of refusing it (lenient imports only).

    Returns
    -------
    datetime.datetime
        The same instant in UTC.

    Raises
    ------
    ValueError
        With :data:`NOT_ISO` or :data:`NO_OFFSET` as the message (callers name the field or line).
    """
    raw = text.strip() if isinstance(text, str) else ""
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(NOT_ISO) from None
    if value.tzinfo is None:
        if not naive_as_utc:
            raise ValueError(NO_OFFSET)
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_iso_field(text: str, field: str) -> dt.datetime:
    """:func:`parse_iso` for a named input: a :class:`~precinct.errors.BadInput` naming ``field``."""
    try:
        return parse_iso(text)
    except ValueError as exc:
        shown = f": {text!r}" if str(exc) == NOT_ISO else ""
        raise BadInput(f"{field}: {exc}{shown}", detail={"field": field, "reason": str(exc)}) from None


def to_iso(value: dt.datetime | None) -> str | None:
    """UTC ISO 8601 text ending in ``Z`` (``2026-05-01T00:30:00Z``); None stays None."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None
