"""Small helpers of the command domain: ids, phone numbers and their masking, JSON text, event publishing.

Times are written by :func:`precinct.core.timeutil.to_iso`, distances by :mod:`precinct.city.geo`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
import time
from typing import Any

from precinct.core.timeutil import utcnow
from precinct.errors import BadInput

_PHONE_CHARS = re.compile(r"[\s\-().]")


def new_id(prefix: str, now: dt.datetime | None = None) -> str:
    """A time-sortable unique id such as ``INC-20261123T172901-9f2c4ab1``."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}-{stamp}-{secrets.token_hex(4)}"


def normalize_phone(phone: str | None) -> str | None:
    """Strip spaces, dashes, dots and brackets; full-width digits to half-width; None stays None."""
    if phone is None:
        return None
    text = phone.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})
    text = _PHONE_CHARS.sub("", text.strip())
    return text or None


def mask_phone(phone: str | None) -> str | None:
    """Mask a phone number for boards and lists: ``13812345678`` becomes ``138****5678``."""
    if not phone:
        return None
    if len(phone) <= 4:
        return "*" * len(phone)
    head = phone[:3] if len(phone) >= 8 else ""
    return head + "*" * (len(phone) - len(head) - 4) + phone[-4:]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def publish(bus: Any, subject: str, payload: dict[str, Any]) -> None:
    """Publish an event with its send time (``sent_at``, epoch seconds) for latency measurement.

    Never raises: the change is already committed and a bus hiccup must not turn it into an error.
    """
    if bus is None:
        return
    event = {"subject": subject, "sent_at": time.time(), **payload}
    try:
        bus.publish(subject, event)
    except Exception:  # pragma: no cover - bus failures are logged by the bus
        import logging

        logging.getLogger("precinct.command").warning("could not publish %s", subject, exc_info=True)


def check_coordinates(lat: float | None, lon: float | None, *, field_prefix: str = "") -> None:
    """422 naming the field when a coordinate is missing, not finite or out of range."""
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if value is None or not math.isfinite(value) or abs(value) > bound:
            raise BadInput(
                f"{field_prefix}{name}: must be a number within ±{bound:g} degrees",
                detail={"field": f"{field_prefix}{name}", "reason": "out of range"},
            )
