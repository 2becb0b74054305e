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

from precinct.anpr import presence, warehouse_migrations
from precinct.anpr.layout import DAY_US, READ_COLUMNS, READS, next_counter, query_arrow, rewrite_days
from precinct.core.warehouse import Warehouse

__all__ = ["DAY_US", "READ_COLUMNS", "Appended", "append_chunk", "compact", "ensure_schema", "erase_older_than",
           "next_counter", "query_arrow", "rewrite_days", "storage_order"]


def ensure_schema(wh: Warehouse) -> None:
    """Make sure the warehouse has the current schema (applies pending warehouse migrations).

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    """
    warehouse_migrations.ensure_current(wh)


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


def _duplicate_lines(cur: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Array | None:
    """Lines of ``table`` that repeat an earlier or a stored (read_id, ts_us); None if there are none.

    Only rows that can be duplicates go to the exact check: a row whose time occurs once in the
    batch and lies outside the span of the stored reads that overlap the batch's span is new.
    """
    ts = table.column("ts_us").to_numpy()
    has_id = pc.is_valid(table.column("read_id")).to_numpy(zero_copy_only=False)
    lo, hi = int(ts.min()), int(ts.max())
    row = cur.execute(
        "SELECT min(ts_us), max(ts_us) FROM anpr_reads WHERE ts_us BETWEEN ? AND ? AND read_id IS NOT NULL",
        [lo, hi],
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
    # the one assembled statement of this module: a relation's query takes no parameters, so the
    # bounds (ints from the batch) are formatted into the constant text
    found = query_arrow(cur, candidates, "batch", _DUPLICATES_SQL.format(lo=int(lo), hi=int(hi)))
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
    cur.from_arrow(fresh.select([c.strip() for c in READ_COLUMNS.split(",")])).insert_into(READS)
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
    return rewrite_days(
        wh, READS, "plate, ts_us, rid",
        ts_from=None if day_from is None else int(day_from) * DAY_US,
        ts_to=None if day_to is None else (int(day_to) + 1) * DAY_US,
        progress=progress,
    )


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
        cur.register(presence.KEEP, keep)
        try:
            kept_row = cur.execute(
                "SELECT count(*) FROM anpr_reads WHERE ts_us < ? AND rid IN (SELECT rid FROM _keep_rids)", [cut]
            ).fetchone()
            row = cur.execute(
                "DELETE FROM anpr_reads WHERE ts_us < ? AND rid NOT IN (SELECT rid FROM _keep_rids)", [cut]
            ).fetchone()
            presence.erase_older_than(cur, cut_us=cut, keep=True)  # the derived projections too
        finally:
            cur.unregister(presence.KEEP)
        erased, kept = (int(row[0]) if row else 0), (int(kept_row[0]) if kept_row else 0)
        before_commit(erased, kept)
    return erased, kept
