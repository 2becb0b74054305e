"""Query-side projections of the reads, maintained at ingest: a time-ordered copy and a presence table.

``anpr_reads`` is laid out by (day, plate) for plate lookups (trajectories). Two more tables serve
the area queries (association, series), written in the ingest transaction by :func:`record`:

``anpr_reads_by_time`` (rid, ts_us, lat, lon, plate, camera_id)
    The same reads, appended in time order, so a two-hour window reads only its own row groups
    (DuckDB's min/max statistics per row group) instead of whole days.

``anpr_presence`` (plate, day, cy, cx, batch)
    One row per vehicle, UTC day and grid cell it was read in, where the cell of a point is
    ``cy = floor(lat * 1000)``, ``cx = floor(lon * 1000)`` (0.001°, about 110 m × 95 m here).
    The association's rarity counts, per vehicle, the whole days before the window's day on which
    it was read in a cell whose centre ``((cy + 0.5) / 1000, (cx + 0.5) / 1000)`` lies within the
    radius: that is the scene's "area". The in-memory index of :mod:`precinct.anpr.history` answers
    that for thousands of vehicles in milliseconds.

Both are derived data: retention erases them with the reads (:func:`erase_older_than`), and on
Spark they are views over ``anpr_reads`` (:data:`SPARK_VIEWS`), so the same SQL runs there.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from precinct.core.warehouse import Warehouse

DAY_US = 86_400_000_000
CELLS_PER_DEG = 1000
BY_TIME = "anpr_reads_by_time"
BY_TIME_COLUMNS = "rid, ts_us, lat, lon, plate, camera_id"
PRESENCE = "anpr_presence"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {BY_TIME} (
    rid BIGINT NOT NULL, ts_us BIGINT NOT NULL, lat DOUBLE NOT NULL, lon DOUBLE NOT NULL,
    plate VARCHAR NOT NULL, camera_id VARCHAR
);
CREATE TABLE IF NOT EXISTS {PRESENCE} (
    plate VARCHAR NOT NULL, day INTEGER NOT NULL, cy INTEGER NOT NULL, cx INTEGER NOT NULL,
    batch BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS anpr_presence_state (version BIGINT NOT NULL, epoch BIGINT NOT NULL);
"""


def _presence_select(source: str, batch: str = "batch") -> str:
    return (
        f"SELECT DISTINCT plate, (ts_us // {DAY_US})::INTEGER AS day, "
        f"floor(lat * {CELLS_PER_DEG})::INTEGER AS cy, floor(lon * {CELLS_PER_DEG})::INTEGER AS cx, "
        f"{batch} AS batch FROM {source}"
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
        "AND column_name = 'camera_id'"
    ).fetchall()
    return bool(cols[0][0])


def _backfill(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the projections and fill them from every stored read (inside the caller's transaction)."""
    for table in (BY_TIME, PRESENCE, "anpr_presence_state"):  # an older layout is replaced whole
        _exec(cur, f"DROP TABLE IF EXISTS {table}")
    _exec(cur, _SCHEMA)
    _exec(cur, f"INSERT INTO {BY_TIME} SELECT {BY_TIME_COLUMNS} FROM anpr_reads ORDER BY ts_us")
    _exec(cur, f"INSERT INTO {PRESENCE} {_presence_select('anpr_reads')} ORDER BY batch, plate")
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
    rel = cur.from_arrow(stored)
    for sql in (
        f"INSERT INTO {BY_TIME} SELECT {BY_TIME_COLUMNS} FROM _presence_new ORDER BY ts_us",
        f"INSERT INTO {PRESENCE} {_presence_select('_presence_new')}",
    ):
        done = rel.query("_presence_new", sql)
        if done is not None:
            done.fetchall()
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
        f"INSERT INTO {PRESENCE} {_presence_select('anpr_reads')} "
        f"WHERE ts_us >= {int(cut_us)} AND ts_us < {(cut_day + 1) * DAY_US}"
    )
    _exec(cur, "UPDATE anpr_presence_state SET version = version + 1, epoch = epoch + 1")


def compact(wh: Warehouse) -> None:
    """Re-sort the time-ordered copy (after imports that arrived out of time order).

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    """
    ensure(wh)
    with wh.transaction() as cur:
        _exec(cur, f"CREATE TEMP TABLE _by_time AS SELECT * FROM {BY_TIME} ORDER BY ts_us")
        _exec(cur, f"DELETE FROM {BY_TIME}")
        _exec(cur, f"INSERT INTO {BY_TIME} SELECT * FROM _by_time")
        _exec(cur, "DROP TABLE _by_time")
    wh.checkpoint()
