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
    that for thousands of vehicles in milliseconds.

All three are derived data: retention erases them with the reads (:func:`erase_older_than`; a
plate with no read left leaves ``anpr_vehicles`` too), and on Spark the two read tables are views
over ``anpr_reads`` (:data:`SPARK_VIEWS`, without ``vid``), so the shared SQL runs there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from precinct.core.warehouse import Warehouse

DAY_US = 86_400_000_000
CELLS_PER_DEG = 1000
BY_TIME = "anpr_reads_by_time"
BY_TIME_COLUMNS = "rid, ts_us, lat, lon, plate, camera_id"
PRESENCE = "anpr_presence"
VEHICLES = "anpr_vehicles"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {VEHICLES} (vid INTEGER NOT NULL, plate VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS {BY_TIME} (
    rid BIGINT NOT NULL, ts_us BIGINT NOT NULL, lat DOUBLE NOT NULL, lon DOUBLE NOT NULL,
    plate VARCHAR NOT NULL, camera_id VARCHAR, vid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS {PRESENCE} (
    plate VARCHAR NOT NULL, day INTEGER NOT NULL, cy INTEGER NOT NULL, cx INTEGER NOT NULL,
    batch BIGINT NOT NULL, vid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS anpr_presence_state (version BIGINT NOT NULL, epoch BIGINT NOT NULL);
INSERT INTO anpr_counters VALUES ('vid', 0) ON CONFLICT DO NOTHING;
"""


def _presence_select(source: str, batch: str = "batch") -> str:
    """Presence rows of the reads in ``source`` (which has a ``vid`` column)."""
    return (
        f"SELECT DISTINCT plate, (ts_us // {DAY_US})::INTEGER AS day, "
        f"floor(lat * {CELLS_PER_DEG})::INTEGER AS cy, floor(lon * {CELLS_PER_DEG})::INTEGER AS cx, "
        f"{batch} AS batch, vid FROM {source}"
    )


def _with_vid(source: str) -> str:
    """``source``'s rows with their vehicle id (every plate in it must be in the dictionary)."""
    return f"(SELECT s.*, v.vid FROM {source} s JOIN {VEHICLES} v ON v.plate = s.plate)"


def _add_vehicles(
    cur: duckdb.DuckDBPyConnection, source: str, run: Callable[[str], list[tuple[Any, ...]]] | None = None
) -> None:
    """Give the plates of ``source`` that have no vehicle id yet the next ids of the counter.

    ``run`` executes a statement that can see ``source`` (default: the cursor itself)."""
    run = run or (lambda sql: cur.execute(sql).fetchall())
    new = (
        f"SELECT DISTINCT plate FROM {source} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {VEHICLES} v WHERE v.plate = s.plate)"
    )
    n = int(run(f"SELECT count(*) FROM ({new})")[0][0])
    if not n:
        return
    from precinct.anpr.store import next_counter

    base = next_counter(cur, "vid", n)
    run(
        f"INSERT INTO {VEHICLES} SELECT ({base - 1} + row_number() OVER (ORDER BY plate))::INTEGER, plate "
        f"FROM ({new})"
    )


#: The projections as Spark SQL views over ``anpr_reads`` (same columns, same cells).
SPARK_VIEWS = {
    BY_TIME: f"SELECT {BY_TIME_COLUMNS} FROM anpr_reads",
    PRESENCE: (
        f"SELECT DISTINCT plate, CAST(floor(ts_us / {DAY_US}) AS INT) AS day, "
        f"CAST(floor(lat * {CELLS_PER_DEG}) AS INT) AS cy, CAST(floor(lon * {CELLS_PER_DEG}) AS INT) AS cx, "
        "batch FROM anpr_reads"
    ),
}


def _exec(cur: duckdb.DuckDBPyConnection, sql: str) -> None:
    cur.execute(sql).fetchall()  # consumed, so the connection is free for the next statement


def _initialised(cur: duckdb.DuckDBPyConnection) -> bool:
    """The projections exist in the current layout (state table, and camera_id in the copy)."""
    rows = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'anpr_presence_state'"
    ).fetchall()
    if not rows[0][0]:
        return False
    cols = cur.execute(
        f"SELECT count(*) FROM information_schema.columns WHERE table_name = '{BY_TIME}' "
        "AND column_name IN ('camera_id', 'vid')"
    ).fetchall()
    return int(cols[0][0]) == 2


def _backfill(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the projections and fill them from every stored read (inside the caller's transaction)."""
    for table in (BY_TIME, PRESENCE, VEHICLES, "anpr_presence_state"):  # an older layout is replaced whole
        _exec(cur, f"DROP TABLE IF EXISTS {table}")
    _exec(cur, _SCHEMA)
    _add_vehicles(cur, "anpr_reads")
    _exec(cur, f"INSERT INTO {BY_TIME} SELECT {BY_TIME_COLUMNS}, vid FROM {_with_vid('anpr_reads')} ORDER BY ts_us")
    _exec(cur, f"INSERT INTO {PRESENCE} {_presence_select(_with_vid('anpr_reads'))} ORDER BY batch, plate")
    _exec(cur, "DELETE FROM anpr_presence_state")
    _exec(cur, "INSERT INTO anpr_presence_state VALUES (1, 1)")


def ensure(wh: Warehouse) -> None:
    """Make sure the projections exist (built from the stored reads on first use).

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse holding ``anpr_reads``.
    """
    if "anpr.presence" in wh.schemas:
        return
    from precinct.anpr import store

    store.ensure_schema(wh)
    with wh.transaction() as cur:
        if not _initialised(cur):
            _backfill(cur)
    wh.schemas.add("anpr.presence")


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
    if not _initialised(cur):  # first ingest since the upgrade: build from everything stored
        _backfill(cur)
        return
    # a relation, not register(): DuckDB keeps a registered table alive until the transaction
    # ends, which for a 100-million-read import is every chunk
    rel = cur.from_arrow(stored.select(["rid", "ts_us", "lat", "lon", "plate", "camera_id", "batch"]))
    new = "_presence_new"

    def run(sql: str) -> list[tuple[Any, ...]]:
        done = rel.query(new, sql)
        return done.fetchall() if done is not None else []

    _add_vehicles(cur, new, run)
    run(f"INSERT INTO {BY_TIME} SELECT {BY_TIME_COLUMNS}, vid FROM {_with_vid(new)} ORDER BY ts_us")
    run(f"INSERT INTO {PRESENCE} {_presence_select(_with_vid(new))}")
    _exec(cur, "UPDATE anpr_presence_state SET version = version + 1")


def erase_older_than(cur: duckdb.DuckDBPyConnection, *, cut_us: int, keep: str | None = None) -> None:
    """Erase the projections' rows older than ``cut_us`` (in the retention transaction).

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The retention's open transaction.
    cut_us : int
        Reads before this time (epoch µs) are being erased.
    keep : str, optional
        Name of a registered table with a ``rid`` column: reads kept (hotlist hits, cases) stay in
        the time-ordered copy. Presence (which names no read) is rebuilt for the cut's day from the
        reads at or after the cut and goes entirely before it.
    """
    if not _initialised(cur):
        return
    keep_sql = f" AND rid NOT IN (SELECT rid FROM {keep})" if keep else ""
    _exec(cur, f"DELETE FROM {BY_TIME} WHERE ts_us < {int(cut_us)}{keep_sql}")
    cut_day = int(cut_us) // DAY_US
    _exec(cur, f"DELETE FROM {PRESENCE} WHERE day <= {cut_day}")
    _exec(cur,   # the cut's own day again, from its reads at or after the cut only
        f"INSERT INTO {PRESENCE} {_presence_select(_with_vid('anpr_reads'))} "
        f"WHERE ts_us >= {int(cut_us)} AND ts_us < {(cut_day + 1) * DAY_US}"
    )
    _exec(cur, f"DELETE FROM {VEHICLES} v WHERE NOT EXISTS (SELECT 1 FROM {BY_TIME} b WHERE b.vid = v.vid)")
    _exec(cur, "UPDATE anpr_presence_state SET version = version + 1, epoch = epoch + 1")


def compact(wh: Warehouse, *, progress: Callable[[int, int, int], None] | None = None) -> int:
    """Re-sort the time-ordered copy a day per transaction (after imports that arrived out of time
    order).

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    progress : callable, optional
        Called as ``progress(done_days, all_days, rows)`` after each day.

    Returns
    -------
    int
        Rows rewritten.
    """
    from precinct.anpr.store import rewrite_days

    ensure(wh)
    return rewrite_days(wh, BY_TIME, f"{BY_TIME_COLUMNS}, vid", "ts_us, rid", progress=progress)
