"""Ingest of plate/tag reads, hotlists and alerts (keyword-only services; thin views and CLI).

Ingest order of events, chosen so that the audit log never under-reports and nothing is
acknowledged before it is durable:

1. parse and validate (rows that fail are rejected with their location; the rest go on);
2. in one warehouse transaction: deduplicate and insert;
3. in one operations-database transaction: the collection audit record (one per batch) and the
   alerts for hotlist hits; commit;
4. commit the warehouse transaction (durable: DuckDB's write-ahead log);
5. only then acknowledge, and publish the alerts on the event bus.

A crash between 3 and 4 leaves an audit record (and alerts) for a batch that was not stored and
not acknowledged; the sender retries, and the retry is audited again.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from precinct.anpr import parse, presence, store
from precinct.anpr.alerts import ACK_SUBJECT, acknowledge_alert
from precinct.anpr.hotlists import (
    HOTLISTS,
    HotEntry,
    HotlistCache,
    add_hotlist,
    cameras,
    hotlist_dict,
    list_hotlist,
    remove_hotlist,
    upsert_cameras,
)
from precinct.anpr.models import Alert, Camera, CaseRead
from precinct.config import Settings
from precinct.core import audit
from precinct.core.db import Database, utcnow
from precinct.core.roles import AuditAction
from precinct.core.timeutil import parse_iso_field
from precinct.core.warehouse import Warehouse
from precinct.errors import BadInput

log = logging.getLogger("precinct.anpr")

__all__ = ["ACK_SUBJECT", "HOTLISTS", "ChunkSource", "HotEntry", "HotlistCache", "IngestResult", "acknowledge_alert",
           "add_hotlist", "alert_payload", "cameras", "chunks_source", "file_source", "hotlist_dict", "import_links",
           "ingest", "iso",
           "list_alerts", "list_hotlist", "nearest_units", "parse_time", "pin_reads", "protected_rids",
           "remove_hotlist", "to_us", "upsert_cameras", "warehouse"]

ChunkSource = Callable[[Callable[[parse.RawChunk], None], Callable[[], None]], None]


def warehouse(settings: Settings) -> Warehouse:
    wh = Warehouse.for_settings(settings)
    store.ensure_schema(wh)
    return wh


def iso(ts_us: int) -> str:
    return dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC).isoformat().replace("+00:00", "Z")


def to_us(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise BadInput("times need an offset or Z", detail={"field": "ts"})
    return int(value.timestamp() * 1_000_000)


def parse_time(value: str, field_name: str) -> dt.datetime:
    return parse_iso_field(value, field_name)


# --- ingest ------------------------------------------------------------------------------------


@dataclass
class IngestResult(parse.BatchResult):
    """A reads batch's result, with the hotlist alerts it raised."""

    alerts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self, unit: str = "line") -> dict[str, Any]:
        return {**super().as_dict(unit), "alerts": len(self.alerts)}


def ingest(
    *,
    db: Database,
    wh: Warehouse,
    source: ChunkSource,
    actor: str,
    role: str,
    origin: str,
    raise_alerts: bool = True,
    after_durable: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Validate, deduplicate and store reads from ``source``; audit once; raise alerts.

    ``source(consume, restart)`` calls ``consume`` with each chunk; it may call ``restart`` once
    (the CSV fast path giving way to the exact reader), which discards what was consumed.
    """
    started = time.perf_counter()
    cams = cameras(db)
    hot = HOTLISTS.get(db) if raise_alerts else {}
    hot_plates = pa.array(list(hot), pa.string())
    with wh.transaction() as cur:
        state: dict[str, Any] = {}

        def reset() -> None:
            state.update(
                batch=store.next_counter(cur, "batch"),
                stored=0,
                dups=0,
                rejects=parse.Rejects(),
                hits=[],
            )

        # validation of chunk k+1 (a worker thread) overlaps the store of chunk k (this thread)
        pending: collections.deque[Future[tuple[pa.Table, list[parse.Reject]]]] = collections.deque()
        pool: list[ThreadPoolExecutor] = []

        def consume(chunk: parse.RawChunk) -> None:
            if not pool:
                pool.append(ThreadPoolExecutor(1, thread_name_prefix="anpr-validate"))
            pending.append(pool[0].submit(parse.validate, chunk, cameras=cams))
            while len(pending) > 1:
                store_validated(pending.popleft())

        def store_validated(validated: Future[tuple[pa.Table, list[parse.Reject]]]) -> None:
            table, rejects = validated.result()
            state["rejects"].add(rejects)
            appended = store.append_chunk(cur, table, batch_id=state["batch"])
            presence.record(cur, appended.stored)  # the query-side projections (anpr/presence.py)
            state["stored"] += appended.stored.num_rows
            state["dups"] += appended.duplicates
            if len(hot_plates) and appended.stored.num_rows:
                mask = pc.is_in(appended.stored.column("plate"), value_set=hot_plates)
                hits = appended.stored.filter(mask)
                if hits.num_rows:
                    state["hits"].append(hits.drop_columns(["line"]))

        def restart() -> None:
            while pending:  # validated chunks of the abandoned reading are dropped
                with contextlib.suppress(Exception):
                    pending.popleft().result()
            cur.execute("ROLLBACK")
            cur.execute("BEGIN TRANSACTION")
            reset()

        reset()
        try:
            source(consume, restart)
            while pending:
                store_validated(pending.popleft())
        finally:
            for p in pool:
                p.shutdown(wait=True, cancel_futures=True)
        rej: parse.Rejects = state["rejects"]
        result = IngestResult(
            batch=state["batch"],
            stored=state["stored"],
            duplicates=state["dups"],
            rejected=rej.count,
            rejects=rej.details,
        )
        with db.session() as s:
            audit.append(
                s,
                actor=actor,
                role=role,
                action=AuditAction.collection,
                resource="anpr.reads",
                params={
                    "batch": result.batch,
                    "origin": origin,
                    "stored": result.stored,
                    "duplicates": result.duplicates,
                    "rejected": result.rejected,
                },
                result_count=result.stored,
            )
            if state["hits"]:
                result.alerts = _record_alerts(s, pa.concat_tables(state["hits"]), hot)
        # leaving the block commits the warehouse transaction
    result.seconds = time.perf_counter() - started
    if after_durable is not None:
        after_durable(result)
    return result


def _record_alerts(
    session: Any, hits: pa.Table, hot: dict[str, list[HotEntry]]
) -> list[dict[str, Any]]:
    rows = hits.to_pylist()
    alerts: list[tuple[Alert, dict[str, Any]]] = []
    raised = utcnow()
    for r in rows:
        for e in hot.get(r["plate"], []):
            a = Alert(
                rid=r["rid"],
                hotlist_id=e.id,
                plate=r["plate"],
                read_at=dt.datetime.fromtimestamp(r["ts_us"] / 1e6, dt.UTC),
                lat=r["lat"],
                lon=r["lon"],
                camera_id=r["camera_id"],
                list_name=e.list_name,
                reason=e.reason,
                created_at=raised,
            )
            session.add(a)
            alerts.append((a, r))
    session.flush()
    for a, _r in alerts:
        # the alert goes out on the live board to the roles cleared for hotlist alerts: a disclosure
        # of the plate, audited with the hotlist entry as its case
        audit.append(session, actor="system", role="system", action=AuditAction.disclosure,
                     resource="anpr.alert", params={"alert_id": a.id, "plate": a.plate, "camera": a.camera_id},
                     result_count=1, case_id=f"hotlist:{a.hotlist_id}", purpose="hotlist_alert")
    names = camera_names(session, {a.camera_id for a, _r in alerts})
    return [alert_payload(a, r, camera_name=names.get(a.camera_id or "")) for a, r in alerts]


def camera_names(session: Any, ids: set[str | None]) -> dict[str, str]:
    """The registered names of cameras ``ids`` (those that have one)."""
    wanted = sorted(i for i in ids if i)
    if not wanted:
        return {}
    rows = session.execute(select(Camera.camera_id, Camera.name).where(Camera.camera_id.in_(wanted))).all()
    return {cid: name for cid, name in rows if name}


def alert_payload(a: Alert, read: dict[str, Any] | None = None, *, camera_name: str | None = None) -> dict[str, Any]:
    read = read or {}
    return {
        "alert_id": a.id,
        "plate": a.plate,
        "list": a.list_name,
        "reason": a.reason,
        "hotlist_id": a.hotlist_id,
        "lat": a.lat,
        "lon": a.lon,
        "raised_at": a.created_at.isoformat(),
        "read": {
            "rid": a.rid,
            "ts": a.read_at.isoformat().replace("+00:00", "Z"),
            "lat": a.lat,
            "lon": a.lon,
            "camera_id": a.camera_id,
            "camera_name": camera_name,
            "kind": read.get("kind"),
            "confidence": read.get("confidence"),
        },
        "units": [],
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": a.acknowledged_at.isoformat().replace("+00:00", "Z") if a.acknowledged_at else None,
    }


def list_alerts(
    db: Database, *, since: dt.datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    with db.sessionmaker() as s:
        q = select(Alert).order_by(Alert.id.desc()).limit(limit)
        if since is not None:
            q = q.where(Alert.created_at >= since)
        rows = list(s.scalars(q))
        names = camera_names(s, {a.camera_id for a in rows})
        return [alert_payload(a, camera_name=names.get(a.camera_id or "")) for a in rows]


# --- nearest units (dispatch owns units; read its table when present) --------------------------


def nearest_units(
    db: Database, settings: Settings, lat: float, lon: float, *, k: int = 3
) -> list[dict[str, Any]]:
    """The ``k`` available units nearest by road travel time to (lat, lon), fastest first.

    Units belong to dispatch; this reads its ``units`` table if it exists (no import of another
    domain) and asks the city for travel times. Returns ``[]`` when either is missing.
    """
    from precinct.anpr.fanout import units_for

    return units_for(db, settings, [(lat, lon)], k=k)[0]


# --- case pins ---------------------------------------------------------------------------------


def pin_reads(
    db: Database, *, case_id: str, rids: list[int], actor: str, role: str, purpose: str
) -> int:
    """Tie reads to a case (kept past retention)."""
    with db.session() as s:
        existing = set(
            s.scalars(
                select(CaseRead.rid).where(CaseRead.case_id == case_id, CaseRead.rid.in_(rids))
            )
        )
        new = [r for r in dict.fromkeys(rids) if r not in existing]
        for r in new:
            s.add(CaseRead(case_id=case_id, rid=int(r), created_by=actor, created_at=utcnow()))
        audit.append(
            s,
            actor=actor,
            role=role,
            action=AuditAction.alteration,
            resource="anpr.case_reads",
            params={"op": "pin", "rids": new},
            case_id=case_id,
            purpose=purpose,
            result_count=len(new),
        )
    return len(new)


def protected_rids(db: Database) -> set[int]:
    with db.sessionmaker() as s:
        pinned = set(s.scalars(select(CaseRead.rid)))
        hit = set(s.scalars(select(Alert.rid)))
    return pinned | hit


# --- sources -----------------------------------------------------------------------------------


def file_source(path: Path, *, chunk_rows: int = parse.DEFAULT_CHUNK_ROWS) -> ChunkSource:
    path = Path(path)
    if not path.exists():
        raise BadInput(f"no such file: {path}", detail={"file": str(path), "field": "path"})
    suffix = path.suffix.lower()

    def _src(consume: Callable[[parse.RawChunk], None], restart: Callable[[], None]) -> None:
        if suffix in (".parquet", ".pq"):
            for chunk in parse.iter_parquet(path, chunk_rows=chunk_rows):
                consume(chunk)
        elif suffix in (".csv", ".txt"):
            parse.read_csv_chunks(path, chunk_rows=chunk_rows, consume=consume, restart=restart)
        else:
            raise BadInput(
                f"unknown file type {suffix!r}: use .csv or .parquet", detail={"file": str(path)}
            )

    return _src


def chunks_source(chunks: list[parse.RawChunk]) -> ChunkSource:
    def _src(consume: Callable[[parse.RawChunk], None], _restart: Callable[[], None]) -> None:
        for chunk in chunks:
            consume(chunk)

    return _src


# --- person-vehicle links ------------------------------------------------------------------------


def import_links(
    *, db: Database, wh: Warehouse, path: Path, actor: str, role: str
) -> dict[str, Any]:
    """Person–vehicle links CSV (person_id, plate, ts, source, optional link_id).

    All-or-nothing and audited; see :func:`precinct.anpr.links.ingest` (a repeated link is stored
    once, rejected rows are reported with their line).
    """
    from precinct.anpr import links

    path = Path(path)
    result = links.ingest(
        db=db, wh=wh, chunks=links.parse_csv(path), actor=actor, role=role, origin=str(path)
    )
    return result.as_dict("line")
