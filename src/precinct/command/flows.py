"""Bulk flows of call intake: importing a calls CSV (the design brief's format), a batch per transaction."""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.command.incidents import NewCall, audit_collection, open_incident
from precinct.command.models import Call
from precinct.command.types import Priority, get_type
from precinct.core.db import Database
from precinct.core.timeutil import parse_iso, utcnow
from precinct.errors import BadInput

REQUIRED = ("call_id", "ts", "lat", "lon", "type")
BATCH = 1_000


@dataclass(frozen=True)
class CallRow:
    call_id: str
    ts: dt.datetime
    lat: float
    lon: float
    type: str
    priority: str
    description: str


@dataclass(frozen=True)
class ImportSummary:
    read: int
    imported: int
    skipped_existing: int


def parse_rows(lines: Iterable[str]) -> list[CallRow]:
    """Validate every row of a calls CSV first (nothing is written if any row is bad).

    Raises
    ------
    BadInput
        Naming the line and the field, e.g. ``line 7: lat: must be within ±90``.
    """
    reader = csv.DictReader(lines)
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise BadInput(
            f"header: missing column(s) {', '.join(missing)}",
            detail={"line": 1, "field": missing[0], "reason": "missing column"},
        )
    rows, seen = [], set()
    for n, rec in enumerate(reader, start=2):

        def bad(field: str, reason: str, n: int = n) -> BadInput:
            return BadInput(f"line {n}: {field}: {reason}", detail={"line": n, "field": field, "reason": reason})

        cid = (rec.get("call_id") or "").strip()
        if not cid or len(cid) > 128:
            raise bad("call_id", "required, at most 128 characters")
        if cid in seen:
            raise bad("call_id", f"{cid} appears twice in the file")
        seen.add(cid)
        try:
            ts = parse_iso(rec.get("ts") or "")
        except ValueError as exc:
            raise bad("ts", str(exc)) from None
        coords = []
        for field, bound in (("lat", 90.0), ("lon", 180.0)):
            try:
                v = float(rec.get(field) or "nan")
            except ValueError:
                raise bad(field, "not a number") from None
            if not math.isfinite(v) or abs(v) > bound:
                raise bad(field, f"must be within ±{bound:g}")
            coords.append(v)
        itype = get_type(rec.get("type") or "")
        if itype is None:
            raise bad("type", f"unknown incident type {rec.get('type')!r}")
        prio_text = (rec.get("priority") or "").strip().lower()
        try:
            prio = Priority(prio_text) if prio_text else itype.priority
        except ValueError:
            raise bad("priority", f"unknown colour {prio_text!r}") from None
        rows.append(
            CallRow(
                cid,
                ts,
                coords[0],
                coords[1],
                itype.code,
                prio.value,
                (rec.get("description") or "")[:4000],
            )
        )
    return rows


def import_calls(
    db: Database,
    path: Path,
    *,
    actor: str,
    role: str,
    open_incidents: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> ImportSummary:
    """Import a calls CSV: one incident per call; a ``call_id`` already stored is skipped.

    Parameters
    ----------
    db
        The operations database.
    path
        ``call_id, ts, lat, lon, type, priority, description`` (priority and description optional).
    actor, role
        Who imports (the collection is audited, one record per batch).
    open_incidents
        Import as new, open incidents (live replay) instead of closed historical ones.
    progress
        Called with the number of rows written after each batch.
    """
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = parse_rows(fh)
    imported = skipped = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        with db.session() as s:
            n = _write_batch(s, batch, actor=actor, role=role, open_incidents=open_incidents, source_name=path.name)
        imported += n
        skipped += len(batch) - n
        if progress is not None:
            progress(len(batch))
    return ImportSummary(len(rows), imported, skipped)


def _write_batch(
    s: Session, batch: list[CallRow], *, actor: str, role: str, open_incidents: bool, source_name: str
) -> int:
    ids = [r.call_id for r in batch]
    existing = set(s.scalars(select(Call.external_id).where(Call.external_id.in_(ids))).all())
    now = utcnow()
    fresh = [r for r in batch if r.call_id not in existing]
    status = "new" if open_incidents else "closed"
    opened = [
        open_incident(
            None,
            actor=actor,
            type=r.type,
            priority=r.priority,
            lat=r.lat,
            lon=r.lon,
            summary=r.description,
            source="import",
            created_at=r.ts,
            status=status,
            disposition=None if open_incidents else "imported",
            calls=[NewCall(received_at=r.ts, lat=r.lat, lon=r.lon, description=r.description, external_id=r.call_id)],
            kind="imported",
            detail={"call_id": r.call_id},
            now=now,
        )
        for r in fresh
    ]
    s.add_all([o.incident for o in opened])
    s.flush()  # the calls and events reference them
    s.add_all([row for o in opened for row in (*o.calls, o.event)])
    s.flush()
    if opened:
        audit_collection(
            s,
            actor=actor,
            role=role,
            params={"source": source_name, "calls": len(fresh), "first": fresh[0].call_id},
            result_count=len(fresh),
        )
    return len(fresh)
