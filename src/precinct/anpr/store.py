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
import numpy as np
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
    rows = cur.execute(
        "UPDATE anpr_counters SET value = value + ? WHERE name = ? RETURNING value", [n, name]
    ).fetchall()  # fetch to the end: DuckDB refuses more work on a cursor with an unfinished result
    return int(rows[0][0]) - n + 1


@dataclass
class Appended:
    stored: pa.Table  # the stored rows, with rid, in stored order
    duplicates: int


# rows of the batch whose (read_id, ts_us) came earlier in the batch or is already stored
_DUPLICATES_SQL = """
WITH groups AS (
    SELECT read_id, ts_us, min(line) AS first_line, count(*) AS n FROM batch
    WHERE read_id IS NOT NULL GROUP BY read_id, ts_us
),
repeated AS (
    SELECT b.line FROM batch b JOIN groups g ON b.read_id = g.read_id AND b.ts_us = g.ts_us
    WHERE g.n > 1 AND b.line <> g.first_line
),
stored AS (
    SELECT g.first_line AS line FROM groups g
    WHERE EXISTS (SELECT 1 FROM anpr_reads r
                  WHERE r.ts_us BETWEEN {lo} AND {hi} AND r.ts_us = g.ts_us AND r.read_id = g.read_id)
)
SELECT line FROM repeated UNION ALL SELECT line FROM stored
"""


def storage_order(plate: pa.Array | pa.ChunkedArray, ts_us: np.ndarray) -> np.ndarray:
    """Row order of the stored layout: by (UTC day, plate, ts), ties in input order.

    The plates are ranked through their dictionary (sorted byte-wise, as DuckDB orders VARCHAR),
    so the sort itself runs on integers.

    Parameters
    ----------
    plate : pyarrow.Array
        Normalised plates.
    ts_us : numpy.ndarray
        Times, microseconds since the epoch.

    Returns
    -------
    numpy.ndarray
        Indices (int64) that put the rows in storage order.
    """
    if isinstance(plate, pa.ChunkedArray):
        plate = plate.combine_chunks()
    encoded = pc.dictionary_encode(plate)
    rank = np.empty(len(encoded.dictionary), dtype=np.int64)
    rank[pc.sort_indices(encoded.dictionary).to_numpy()] = np.arange(len(rank), dtype=np.int64)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    day = ts_us // DAY_US
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64)
    major = (day - day.min()) * len(rank) + rank[codes]
    minor = ts_us - ts_us.min()
    span = int(minor.max()) + 1
    if int(major.max()) < (2**62) // span:  # one integer key: (major, ts) packed, stable on ties
        return np.argsort(major * span + minor, kind="stable").astype(np.int64)
    return np.lexsort((ts_us, major)).astype(np.int64)


def query_arrow(cur: duckdb.DuckDBPyConnection, table: pa.Table, name: str, sql: str) -> pa.Table:
    """Run ``sql`` with ``table`` visible as ``name``, inside the cursor's transaction.

    A relation rather than ``register()``: DuckDB keeps a registered table alive until the
    transaction ends, which in a 100-million-read import is every chunk ever registered.
    """
    rel = cur.from_arrow(table).query(name, sql)
    assert rel is not None  # a SELECT always yields a relation
    result: pa.Table = rel.to_arrow_table()
    return result


def _duplicate_lines(cur: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Array | None:
    """Lines of ``table`` that repeat an earlier or a stored (read_id, ts_us); None if there are none.

    Only rows that can be duplicates go to the exact check: a row whose time occurs once in the
    batch and lies outside the span of the stored reads that overlap the batch's span is new.
    """
    ts = table.column("ts_us").to_numpy()
    has_id = pc.is_valid(table.column("read_id")).to_numpy(zero_copy_only=False)
    lo, hi = int(ts.min()), int(ts.max())
    row = cur.execute(
        f"SELECT min(ts_us), max(ts_us) FROM anpr_reads WHERE ts_us BETWEEN {lo} AND {hi} "
        "AND read_id IS NOT NULL"
    ).fetchall()[0]
    maybe = np.zeros(len(ts), dtype=bool)
    if row[0] is not None:
        maybe |= (ts >= row[0]) & (ts <= row[1])
    order = np.argsort(ts, kind="stable")
    sorted_ts = ts[order]
    repeated = np.zeros(len(ts), dtype=bool)
    same = sorted_ts[1:] == sorted_ts[:-1]
    repeated[order[1:][same]] = True
    repeated[order[:-1][same]] = True
    maybe = (maybe | repeated) & has_id
    if not maybe.any():
        return None
    candidates = table.filter(pa.array(maybe)).select(["read_id", "ts_us", "line"])
    found = query_arrow(cur, candidates, "batch", _DUPLICATES_SQL.format(lo=lo, hi=hi))
    return found.column("line").combine_chunks() if found.num_rows else None


def append_chunk(cur: duckdb.DuckDBPyConnection, table: pa.Table, *, batch_id: int) -> Appended:
    """Insert the new rows of ``table`` (canonical schema) inside the caller's transaction.

    Rows whose ``(read_id, ts_us)`` is already stored, or came earlier in ``table``, are left out
    (counted as duplicates); the rest get consecutive rids in storage order (:func:`storage_order`)
    and are inserted in that order.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        An open warehouse transaction.
    table : pyarrow.Table
        Validated rows (:data:`precinct.anpr.parse.CANONICAL`), ``line`` unique within the table.
    batch_id : int
        The ingest batch named in the rows and in the batch's audit record.

    Returns
    -------
    Appended
        The stored rows (with ``rid`` and ``batch``, in stored order) and the duplicate count.
    """
    n = table.num_rows
    if n == 0:
        empty = table.append_column("rid", pa.array([], pa.int64()))
        return Appended(empty.append_column("batch", pa.array([], pa.int64())), 0)
    ts = table.column("ts_us")
    if table.column("read_id").null_count < n:  # something to deduplicate on
        dup = _duplicate_lines(cur, table)
        if dup is not None:
            table = table.filter(pc.invert(pc.is_in(table.column("line"), value_set=dup)))
            ts = table.column("ts_us")
    for name in ("camera_id", "kind"):  # few distinct values: reorder indices, not strings
        table = table.set_column(
            table.schema.get_field_index(name), name, pc.dictionary_encode(table.column(name))
        )
    fresh = table.take(storage_order(table.column("plate"), ts.to_numpy()))
    m = fresh.num_rows
    base = next_counter(cur, "rid", m) if m else 0
    fresh = fresh.append_column("rid", pa.array(np.arange(base, base + m, dtype=np.int64)))
    fresh = fresh.append_column("batch", pa.array(np.full(m, batch_id, dtype=np.int64)))
    # from_arrow, not register(): a registered table would stay in memory until the (possibly
    # 100-million-row) import commits
    cur.from_arrow(fresh.select([c.strip() for c in READ_COLUMNS.split(",")])).insert_into("anpr_reads")
    return Appended(fresh, n - m)


def compact(
    wh: Warehouse,
    *,
    day_from: int | None = None,
    day_to: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Rewrite whole days sorted by (plate, ts), one transaction per day; returns rows rewritten.

    Live micro-batches are each sorted by plate, but a vehicle's reads of a day are spread over
    all of them, so a plate lookup (a trajectory) would read every row group of the day; after
    compaction it reads one or two. A day at a time keeps memory to one day's reads and leaves
    every day either as it was or fully rewritten if the job is stopped.

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    day_from, day_to : int, optional
        Epoch days (inclusive) to rewrite; default every stored day.
    progress : callable, optional
        Called as ``progress(done_days, all_days, rows)`` after each day.

    Returns
    -------
    int
        Reads rewritten.
    """
    ensure_schema(wh)
    cond = "TRUE"
    if day_from is not None:
        cond += f" AND ts_us >= {int(day_from) * DAY_US}"
    if day_to is not None:
        cond += f" AND ts_us < {(int(day_to) + 1) * DAY_US}"
    return rewrite_days(wh, "anpr_reads", READ_COLUMNS, "plate, ts_us, rid", where=cond, progress=progress)


def rewrite_days(
    wh: Warehouse,
    table: str,
    columns: str,
    order: str,
    *,
    where: str = "TRUE",
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Rewrite ``table`` a UTC day (by ``ts_us``) per transaction, each day sorted by ``order``.

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    table, columns, order : str
        The table, all its columns (in order) and the sort within a day.
    where : str
        Which rows' days to rewrite.
    progress : callable, optional
        Called as ``progress(done_days, all_days, rows)`` after each day.

    Returns
    -------
    int
        Rows rewritten.
    """
    days = [int(r[0]) for r in wh.query(f"SELECT DISTINCT ts_us // {DAY_US} FROM {table} WHERE {where} ORDER BY 1")]
    total = 0
    for done, day in enumerate(days, start=1):
        span = f"ts_us >= {day * DAY_US} AND ts_us < {(day + 1) * DAY_US}"
        with wh.transaction() as cur:
            cur.execute(
                f"CREATE TEMP TABLE _rewrite AS SELECT {columns} FROM {table} WHERE {span} ORDER BY {order}"
            ).fetchall()
            cur.execute(f"DELETE FROM {table} WHERE {span}").fetchall()
            row = cur.execute(f"INSERT INTO {table} SELECT {columns} FROM _rewrite").fetchall()
            cur.execute("DROP TABLE _rewrite").fetchall()
        n = int(row[0][0]) if row else 0
        total += n
        if progress:
            progress(done, len(days), n)
    wh.checkpoint()
    return total


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
            from precinct.anpr import presence

            presence.erase_older_than(cur, cut_us=cut, keep="keep")  # the derived projections too
        finally:
            cur.unregister("keep")
        erased, kept = (int(row[0]) if row else 0), (int(kept_row[0]) if kept_row else 0)
        before_commit(erased, kept)
    return erased, kept
