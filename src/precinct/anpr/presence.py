"""Query-side projections of the reads, maintained at ingest: a time-ordered copy and a presence table.

``anpr_reads`` is laid out by (day, plate) for plate lookups (trajectories). Two more tables serve
the area queries (association, series), written in the ingest transaction by :func:`record`:

``anpr_vehicles`` (vid, plate)
    A small integer per distinct plate (from the ``vid`` counter, never reused), so the area
    queries group, join and index vehicles by integer instead of by text.

``anpr_reads_by_time`` (rid, ts_us, lat, lon, plate, camera_id, vid)
    The same reads, appended in time order, so a two-hour window reads only its own row groups
    (DuckDB's min/max statistics per row group) instead of whole days.

``anpr_presence`` (plate, day, cy, cx, batch, vid)
    One row per vehicle, UTC day and grid cell it was read in, where the cell of a point is
    ``cy = floor(lat * 1000)``, ``cx = floor(lon * 1000)`` (0.001°, about 110 m × 95 m here).
    The association's rarity counts, per vehicle, the whole days before the window's day on which
    it was read in a cell whose centre ``((cy + 0.5) / 1000, (cx + 0.5) / 1000)`` lies within the
    radius: that is the scene's "area". The in-memory index of :mod:`precinct.anpr.history` answers
    that for thousands of vehicles in milliseconds; a process without it reads the table itself,
    and only the look-back's days and the scene's cells: rows are written in (day, cy, cx, vid)
    order — per ingest chunk, and per whole day by :func:`compact` and by the migration that
    built them — so DuckDB's per-row-group min/max of ``day``, ``cy`` and ``cx`` skip the rest.
    The table is exactly the distinct (vehicle, day, cell, batch) of the stored reads: ingest adds
    a chunk's in its transaction, retention removes the erased reads' (keeping those of reads it
    keeps, as the Spark view over the reads does).

All three are derived data: retention erases them with the reads (:func:`erase_older_than`; a
plate with no read left leaves ``anpr_vehicles`` too), and on Spark the two read tables are views
over ``anpr_reads`` (:data:`SPARK_VIEWS`, without ``vid``), so the shared SQL runs there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from precinct.anpr import warehouse_migrations
from precinct.anpr.layout import (
    BY_TIME,
    BY_TIME_COLUMNS,
    CELLS_PER_DEG,
    DAY_US,
    PRESENCE,
    READS,
    VEHICLES,
    exec_,
    next_counter,
    rewrite_days,
)
from precinct.core.warehouse import Warehouse

__all__ = ["BY_TIME", "BY_TIME_COLUMNS", "CELLS_PER_DEG", "DAY_US", "PRESENCE", "SPARK_VIEWS", "VEHICLES",
           "compact", "ensure", "erase_older_than", "record", "sort_presence"]

# The statements below are assembled from the table names and units of precinct.anpr.layout and
# from relation names chosen here (never from input); values are bound parameters.
_PRESENCE_SELECT = (
    f"SELECT DISTINCT plate, (ts_us // {DAY_US})::INTEGER AS day, "  # noqa: S608 - constant units
    f"floor(lat * {CELLS_PER_DEG})::INTEGER AS cy, floor(lon * {CELLS_PER_DEG})::INTEGER AS cx, "
    "batch, vid FROM "
)
#: the order presence rows are written in (zone maps on day and cell serve the scene scans)
PRESENCE_ORDER = "day, cy, cx, vid"


def _with_vid(source: str) -> str:
    """``source``'s rows with their vehicle id (every plate in it must be in the dictionary)."""
    return f"(SELECT s.*, v.vid FROM {source} s JOIN {VEHICLES} v ON v.plate = s.plate)"  # noqa: S608 - constant names


def _add_vehicles(
    cur: duckdb.DuckDBPyConnection, source: str, run: Callable[[str], list[tuple[Any, ...]]]
) -> None:
    """Give the plates of ``source`` that have no vehicle id yet the next ids of the counter.

    ``run`` executes a statement that can see ``source``."""
    new = (
        f"SELECT DISTINCT plate FROM {source} s "  # noqa: S608 - constant names
        f"WHERE NOT EXISTS (SELECT 1 FROM {VEHICLES} v WHERE v.plate = s.plate)"
    )
    n = int(run(f"SELECT count(*) FROM ({new})")[0][0])  # noqa: S608 - constant names
    if not n:
        return
    base = int(next_counter(cur, "vid", n))
    run(
        f"INSERT INTO {VEHICLES} SELECT ({base - 1} + row_number() OVER (ORDER BY plate))::INTEGER, plate "  # noqa: S608 - constant names, an int
        f"FROM ({new})"
    )


#: The projections as Spark SQL views over ``anpr_reads`` (same columns, same cells).
SPARK_VIEWS = {
    BY_TIME: f"SELECT {BY_TIME_COLUMNS} FROM {READS}",  # noqa: S608 - constant names
    PRESENCE: (
        f"SELECT DISTINCT plate, CAST(floor(ts_us / {DAY_US}) AS INT) AS day, "  # noqa: S608 - constant names
        f"CAST(floor(lat * {CELLS_PER_DEG}) AS INT) AS cy, CAST(floor(lon * {CELLS_PER_DEG}) AS INT) AS cx, "
        f"batch FROM {READS}"
    ),
}


def ensure(wh: Warehouse) -> None:
    """Make sure the warehouse has the current schema (the projections included).

    The projections are created, and built from reads stored before they existed, by the
    warehouse migrations (:mod:`precinct.anpr.warehouse_migrations`); this applies any pending.

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse holding ``anpr_reads``.
    """
    warehouse_migrations.ensure_current(wh)


def record(cur: duckdb.DuckDBPyConnection, stored: pa.Table) -> None:
    """Add freshly stored reads to the projections, in the ingest transaction.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The ingest's open transaction (the rows in ``stored`` are already in ``anpr_reads``).
    stored : pyarrow.Table
        The stored rows with at least ``rid, plate, ts_us, lat, lon, batch``.
    """
    if stored.num_rows == 0:
        return
    # a relation, not register(): DuckDB keeps a registered table alive until the transaction
    # ends, which for a 100-million-read import is every chunk
    rel = cur.from_arrow(stored.select(["rid", "ts_us", "lat", "lon", "plate", "camera_id", "batch"]))
    new = "_presence_new"

    def run(sql: str) -> list[tuple[Any, ...]]:
        done = rel.query(new, sql)
        return done.fetchall() if done is not None else []

    _add_vehicles(cur, new, run)
    run(f"INSERT INTO {BY_TIME} SELECT {BY_TIME_COLUMNS}, vid FROM {_with_vid(new)} ORDER BY ts_us")  # noqa: S608 - constant names
    run(f"INSERT INTO {PRESENCE} {_PRESENCE_SELECT}{_with_vid(new)} ORDER BY {PRESENCE_ORDER}")
    exec_(cur, "UPDATE anpr_presence_state SET version = version + 1")


KEEP = "_keep_rids"  #: name under which retention registers the rids it keeps


def erase_older_than(cur: duckdb.DuckDBPyConnection, *, cut_us: int, keep: bool = False) -> None:
    """Erase the projections' rows older than ``cut_us`` (in the retention transaction).

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The retention's open transaction.
    cut_us : int
        Reads before this time (epoch µs) are being erased.
    keep : bool
        A table :data:`KEEP` with a ``rid`` column is registered: reads kept (hotlist hits, cases)
        stay in the time-ordered copy. Presence (which names no read) is rebuilt up to the cut's
        day from the reads left there (called after ``anpr_reads`` lost the erased ones: the
        cut's day at or after the cut, and the kept reads), so it stays the distinct presence of
        the stored reads.
    """
    cut = int(cut_us)
    cut_day = cut // DAY_US
    if keep:  # the kept reads' table is registered by the caller under this constant name
        exec_(cur, f"DELETE FROM {BY_TIME} WHERE ts_us < ? AND rid NOT IN (SELECT rid FROM {KEEP})", [cut])  # noqa: S608 - constant names
    else:
        exec_(cur, f"DELETE FROM {BY_TIME} WHERE ts_us < ?", [cut])  # noqa: S608 - constant table name
    exec_(cur, f"DELETE FROM {PRESENCE} WHERE day <= ?", [cut_day])  # noqa: S608 - constant table name
    exec_(cur,  # up to the cut's day again, from the reads still stored there (kept ones, the cut's day after the cut)
          f"INSERT INTO {PRESENCE} {_PRESENCE_SELECT}{_with_vid(READS)} WHERE ts_us < ? ORDER BY {PRESENCE_ORDER}",
          [(cut_day + 1) * DAY_US])
    exec_(cur, f"DELETE FROM {VEHICLES} v WHERE NOT EXISTS (SELECT 1 FROM {BY_TIME} b WHERE b.vid = v.vid)")  # noqa: S608 - constant names
    exec_(cur, "UPDATE anpr_presence_state SET version = version + 1, epoch = epoch + 1")


def compact(wh: Warehouse, *, progress: Callable[[int, int, int], None] | None = None) -> int:
    """Re-sort the time-ordered copy a day per transaction (after imports that arrived out of time
    order), then the presence table a day per transaction in (day, cell, vehicle) order.

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    progress : callable, optional
        Called as ``progress(done_days, all_days, rows)`` after each day of the time-ordered copy.

    Returns
    -------
    int
        Rows of the time-ordered copy rewritten.
    """
    ensure(wh)
    n = rewrite_days(wh, BY_TIME, "ts_us, rid", progress=progress)
    sort_presence(wh)
    return n


def sort_presence(wh: Warehouse, *, day_from: int | None = None, day_to: int | None = None) -> int:
    """Rewrite the presence rows of each UTC day in [day_from, day_to] (default: every day) in
    :data:`PRESENCE_ORDER`, one transaction per day (the same rows; only their order changes).

    Returns
    -------
    int
        Presence rows rewritten.
    """
    lo = -(2**31) if day_from is None else int(day_from)
    hi = 2**31 - 1 if day_to is None else int(day_to)
    days = [int(r[0]) for r in wh.query(
        f"SELECT DISTINCT day FROM {PRESENCE} WHERE day BETWEEN ? AND ? ORDER BY 1", [lo, hi])]  # noqa: S608 - constant name
    cols = "plate, day, cy, cx, batch, vid"
    total = 0
    for day in days:
        with wh.transaction() as cur:
            exec_(cur, f"CREATE TEMP TABLE _presence_day AS SELECT {cols} FROM {PRESENCE} WHERE day = ? "  # noqa: S608 - constant names
                  f"ORDER BY {PRESENCE_ORDER}, batch", [day])
            exec_(cur, f"DELETE FROM {PRESENCE} WHERE day = ?", [day])  # noqa: S608 - constant name
            row = cur.execute(f"INSERT INTO {PRESENCE} SELECT {cols} FROM _presence_day").fetchall()  # noqa: S608 - constant names
            exec_(cur, "DROP TABLE _presence_day")
        total += int(row[0][0]) if row else 0
    wh.checkpoint()
    return total
