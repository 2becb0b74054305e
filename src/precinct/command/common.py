"""Small helpers shared by calls, dispatch and orders: ids, distances, masking, event publishing."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
import time
from typing import Any

from precinct.core.db import utcnow

EARTH_RADIUS_M = 6_371_008.8
_PHONE_CHARS = re.compile(r"[\s\-().]")


def new_id(prefix: str, now: dt.datetime | None = None) -> str:
    """A time-sortable unique id such as ``INC-20261123T172901-9f2c4ab1``."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S")
    return f"{prefix}-{stamp}-{secrets.token_hex(4)}"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


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


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


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
