"""Cameras (readers) with their positions, and hotlists with their cache: the reference data
that ingest checks reads against (importable from :mod:`precinct.anpr.service`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from precinct.anpr.models import Camera, HotlistEntry
from precinct.anpr.normalize import normalize_plate
from precinct.core import audit
from precinct.core.db import Database, utcnow
from precinct.core.roles import AuditAction
from precinct.core.timeutil import parse_iso_field
from precinct.errors import BadInput, NotFound

# --- cameras -----------------------------------------------------------------------------------

_camera_cache: dict[str, tuple[float, dict[str, tuple[float, float]]]] = {}


def cameras(db: Database, *, max_age_s: float = 5.0) -> dict[str, tuple[float, float]]:
    hit = _camera_cache.get(db.url)
    if hit is not None and time.monotonic() - hit[0] < max_age_s:
        return hit[1]
    with db.sessionmaker() as s:
        found = {c.camera_id: (c.lat, c.lon) for c in s.scalars(select(Camera))}
    _camera_cache[db.url] = (time.monotonic(), found)
    return found


def upsert_cameras(db: Database, rows: Iterable[dict[str, Any]], *, actor: str, role: str) -> int:
    n = 0
    with db.session() as s:
        for i, row in enumerate(rows, start=2):
            cid = str(row.get("camera_id") or "").strip()
            if not cid:
                raise BadInput(
                    f"line {i}: camera_id is required", detail={"line": i, "field": "camera_id"}
                )
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except (KeyError, TypeError, ValueError):
                raise BadInput(
                    f"line {i}: lat and lon must be numbers", detail={"line": i, "field": "lat"}
                ) from None
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise BadInput(
                    f"line {i}: coordinates out of range", detail={"line": i, "field": "lat"}
                )
            cam = s.get(Camera, cid) or Camera(camera_id=cid)
            cam.lat, cam.lon, cam.name = lat, lon, (row.get("name") or None)
            cam.kind, cam.updated_at = (row.get("kind") or "plate"), utcnow()
            s.add(cam)
            n += 1
        audit.append(
            s,
            actor=actor,
            role=role,
            action=AuditAction.administration,
            resource="anpr.cameras",
            params={"op": "upsert"},
            result_count=n,
        )
    _camera_cache.pop(db.url, None)
    return n


# --- hotlists ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HotEntry:
    id: int
    plate: str
    list_name: str
    reason: str
    expires_at: dt.datetime | None


class HotlistCache:
    """Active hotlist entries by plate, reloaded every ``ttl`` seconds or when changed here."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, dict[str, list[HotEntry]]]] = {}

    def invalidate(self, db: Database) -> None:
        self._data.pop(db.url, None)

    def get(self, db: Database) -> dict[str, list[HotEntry]]:
        hit = self._data.get(db.url)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        with self._lock:
            now = utcnow()
            by_plate: dict[str, list[HotEntry]] = {}
            with db.sessionmaker() as s:
                for e in s.scalars(select(HotlistEntry).where(HotlistEntry.active.is_(True))):
                    if e.expires_at is None or e.expires_at > now:
                        by_plate.setdefault(e.plate, []).append(
                            HotEntry(e.id, e.plate, e.list_name, e.reason, e.expires_at)
                        )
            self._data[db.url] = (time.monotonic(), by_plate)
            return by_plate


HOTLISTS = HotlistCache()


def add_hotlist(
    db: Database,
    entries: Iterable[dict[str, Any]],
    *,
    actor: str,
    role: str,
    default_list: str = "wanted",
) -> list[dict[str, Any]]:
    """Add entries (plate, list, reason, expires_at); one audited transaction."""
    added: list[HotlistEntry] = []
    with db.session() as s:
        for i, row in enumerate(entries, start=1):
            plate = normalize_plate(str(row.get("plate") or ""))
            if not plate:
                raise BadInput(f"entry {i}: empty plate", detail={"line": i, "field": "plate"})
            expires = row.get("expires_at")
            if isinstance(expires, str) and expires.strip():
                expires = parse_iso_field(expires, "expires_at")
            elif not isinstance(expires, dt.datetime):
                expires = None
            e = HotlistEntry(
                plate=plate,
                list_name=str(row.get("list") or row.get("list_name") or default_list)[:64],
                reason=str(row.get("reason") or "")[:256],
                expires_at=expires,
                active=True,
                created_by=actor,
                created_at=utcnow(),
            )
            s.add(e)
            added.append(e)
        s.flush()
        audit.append(
            s,
            actor=actor,
            role=role,
            action=AuditAction.collection,
            resource="anpr.hotlist",
            params={"op": "add", "count": len(added)},
            result_count=len(added),
        )
    HOTLISTS.invalidate(db)
    return [hotlist_dict(e) for e in added]


def remove_hotlist(db: Database, entry_id: int, *, actor: str, role: str) -> None:
    with db.session() as s:
        e = s.get(HotlistEntry, entry_id)
        if e is None:
            raise NotFound(f"no hotlist entry {entry_id}", detail={"field": "id"})
        e.active = False
        audit.append(
            s,
            actor=actor,
            role=role,
            action=AuditAction.alteration,
            resource="anpr.hotlist",
            params={"op": "deactivate", "id": entry_id},
        )
    HOTLISTS.invalidate(db)


def list_hotlist(db: Database, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    with db.sessionmaker() as s:
        q = select(HotlistEntry).order_by(HotlistEntry.id)
        if not include_inactive:
            q = q.where(HotlistEntry.active.is_(True))
        return [hotlist_dict(e) for e in s.scalars(q)]


def hotlist_dict(e: HotlistEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "plate": e.plate,
        "list": e.list_name,
        "reason": e.reason,
        "expires_at": e.expires_at.isoformat() if e.expires_at else None,
        "active": e.active,
        "created_by": e.created_by,
    }
