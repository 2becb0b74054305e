"""The reads store in the warehouse: schema, durable deduplicating append, compaction, erasure.

Table ``anpr_reads`` (one row per stored read):

=========== ======== ===========================================================================
rid         BIGINT   Precinct's id of the read (alerts and case pins refer to it)
plate       VARCHAR  normalised plate or tag
ts_us       BIGINT   time of the read, microseconds since 1970-01-01 UTC
lat, lon    DOUBLE   WGS84 degrees (from the read, or from its camera)
camera_id   VARCHAR  reader, if known
read_id     VARCHAR  the reader's own id; (read_id, ts_us) is stored once
kind        VARCHAR  ``plate`` or ``tag``
confidence  FLOAT    0..1, if given
batch       BIGINT   ingest batch (named in that batch's audit record)
=========== ======== ===========================================================================

Layout: each write is inserted ordered by (day, plate), so DuckDB's row-group min/max statistics
prune a time window to its days and a plate lookup to about one row group per day. Live
micro-batches arrive in time order; :func:`compact` re-sorts whole days.

Deduplication: a read whose ``(read_id, ts_us)`` is already stored (or earlier in the same batch)
is counted as a duplicate and not stored again. The check scans only the batch's time span.

Table ``anpr_links`` (person–vehicle links: person_id, plate, ts_us, source, batch, link_id) is
written by :mod:`precinct.anpr.links`; a link is stored once per ``link_id`` (or, without one, once
per (person_id, plate, ts_us)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from precinct.core.warehouse import Warehouse

DAY_US = 86_400_000_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS anpr_reads (
    rid BIGINT NOT NULL,
    plate VARCHAR NOT NULL,
    ts_us BIGINT NOT NULL,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    camera_id VARCHAR,
    read_id VARCHAR,
    kind VARCHAR NOT NULL,
    confidence FLOAT,
    batch BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS anpr_links (
    person_id VARCHAR NOT NULL,
    plate VARCHAR NOT NULL,
    ts_us BIGINT NOT NULL,
    source VARCHAR,
    batch BIGINT NOT NULL,
    link_id VARCHAR
);
ALTER TABLE anpr_links ADD COLUMN IF NOT EXISTS link_id VARCHAR;
CREATE TABLE IF NOT EXISTS anpr_counters (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO anpr_counters VALUES ('rid', 0), ('batch', 0) ON CONFLICT DO NOTHING;
"""

READ_COLUMNS = "rid, plate, ts_us, lat, lon, camera_id, read_id, kind, confidence, batch"


def ensure_schema(wh: Warehouse) -> None:
    if "anpr" not in wh.schemas:
        wh.execute_script(SCHEMA)
        wh.schemas.add("anpr")


def next_counter(cur: duckdb.DuckDBPyConnection, name: str, n: int = 1) -> int:
    """Reserve ``n`` values of a counter inside the caller's transaction; returns the first."""
    row = cur.execute(
        "UPDATE anpr_counters SET value = value + ? WHERE name = ? RETURNING value", [n, name]
    ).fetchone()
    assert row is not None
    return int(row[0]) - n + 1


@dataclass
class Appended:
    stored: pa.Table  # the stored rows, with rid, in stored order
    duplicates: int


_FRESH_SQL = """
WITH firsts AS (
    SELECT * FROM batch
    QUALIFY read_id IS NULL OR row_number() OVER (PARTITION BY read_id, ts_us ORDER BY line) = 1
),
fresh AS (
    SELECT f.* FROM firsts f
    WHERE f.read_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM anpr_reads r
        WHERE r.ts_us BETWEEN {lo} AND {hi} AND r.ts_us = f.ts_us AND r.read_id = f.read_id)
)
SELECT ({base} + row_number() OVER (ORDER BY ts_us // {day}, plate, ts_us, line) - 1)::BIGINT AS rid,
       plate, ts_us, lat, lon, camera_id, read_id, kind, confidence, {batch}::BIGINT AS batch, line
FROM fresh
ORDER BY rid
"""


def append_chunk(cur: duckdb.DuckDBPyConnection, table: pa.Table, *, batch_id: int) -> Appended:
    """Insert the new rows of ``table`` (canonical schema) inside the caller's transaction."""
    if table.num_rows == 0:
        return Appended(table.append_column("rid", pa.array([], pa.int64())), 0)
    ts = table.column("ts_us")
    lo, hi = pc.min(ts).as_py(), pc.max(ts).as_py()
    has_ids = table.column("read_id").null_count < table.num_rows
    base = next_counter(cur, "rid", table.num_rows)
    cur.register("batch", table)
    try:
        if has_ids:
            sql = _FRESH_SQL.format(lo=int(lo), hi=int(hi), base=base, day=DAY_US, batch=batch_id)
        else:  # nothing to deduplicate on
            sql = (
                f"SELECT ({base} + row_number() OVER (ORDER BY ts_us // {DAY_US}, plate, ts_us, line) - 1)::BIGINT "
                f"AS rid, plate, ts_us, lat, lon, camera_id, read_id, kind, confidence, "
                f"{batch_id}::BIGINT AS batch, line FROM batch ORDER BY rid"
            )
        fresh = cur.sql(sql).to_arrow_table()
    finally:
        cur.unregister("batch")
    cur.register("fresh", fresh)
    try:
        cur.execute(f"INSERT INTO anpr_reads SELECT {READ_COLUMNS} FROM fresh")
    finally:
        cur.unregister("fresh")
    return Appended(fresh, table.num_rows - fresh.num_rows)


def compact(wh: Warehouse, *, day_from: int | None = None, day_to: int | None = None) -> int:
    """Rewrite days (epoch-day numbers, inclusive) sorted by plate; returns rows rewritten."""
    ensure_schema(wh)
    cond = "TRUE"
    if day_from is not None:
        cond += f" AND ts_us >= {int(day_from) * DAY_US}"
    if day_to is not None:
        cond += f" AND ts_us < {(int(day_to) + 1) * DAY_US}"
    with wh.transaction() as cur:
        cur.execute(
            f"CREATE TEMP TABLE _compact AS SELECT {READ_COLUMNS} FROM anpr_reads WHERE {cond} "
            f"ORDER BY ts_us // {DAY_US}, plate, ts_us"
        )
        cur.execute(f"DELETE FROM anpr_reads WHERE {cond}")
        row = cur.execute(f"INSERT INTO anpr_reads SELECT {READ_COLUMNS} FROM _compact").fetchone()
        cur.execute("DROP TABLE _compact")
    wh.checkpoint()
    return int(row[0]) if row else 0


def erase_older_than(
    wh: Warehouse,
    *,
    cutoff: dt.datetime,
    keep_rids: set[int],
    before_commit: Callable[[int, int], None],
) -> tuple[int, int]:
    """Delete reads older than ``cutoff`` except ``keep_rids``; returns (erased, kept).

    ``before_commit(erased, kept)`` runs inside the transaction (the caller audits there), so a
    failed audit record rolls the erasure back.
    """
    ensure_schema(wh)
    cut = int(cutoff.timestamp() * 1_000_000)
    keep = pa.table({"rid": pa.array(sorted(keep_rids), pa.int64())})
    with wh.transaction() as cur:
        cur.register("keep", keep)
        try:
            kept_row = cur.execute(
                f"SELECT count(*) FROM anpr_reads WHERE ts_us < {cut} AND rid IN (SELECT rid FROM keep)"
            ).fetchone()
            row = cur.execute(
                f"DELETE FROM anpr_reads WHERE ts_us < {cut} AND rid NOT IN (SELECT rid FROM keep)"
            ).fetchone()
        finally:
            cur.unregister("keep")
        erased, kept = (int(row[0]) if row else 0), (int(kept_row[0]) if kept_row else 0)
        before_commit(erased, kept)
    return erased, kept
