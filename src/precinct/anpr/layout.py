"""The warehouse layout of plate reads, shared by the store, its projections and the migrations.

The lowest module of :mod:`precinct.anpr`'s warehouse side: table and column names, the time and
grid units, the counters, and the two statement helpers every writer uses. :mod:`store` (the
reads) and :mod:`presence` (the query-side projections) both build on it and import nothing of
each other's internals; the schema itself is created and changed only by the numbered
:mod:`precinct.anpr.warehouse_migrations`.

SQL assembly: table and column names in this package come from the constants below (never from
input); values are bound as parameters, or, where a statement is shared with Spark SQL (which takes
no parameters here), inlined as ``int``/``float`` by :mod:`precinct.anpr.sqltext`.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from precinct.core.warehouse import Warehouse

DAY_US = 86_400_000_000
CELLS_PER_DEG = 1000

READS = "anpr_reads"
LINKS = "anpr_links"
COUNTERS = "anpr_counters"
BY_TIME = "anpr_reads_by_time"
PRESENCE = "anpr_presence"
VEHICLES = "anpr_vehicles"
PRESENCE_STATE = "anpr_presence_state"

READ_COLUMNS = "rid, plate, ts_us, lat, lon, camera_id, read_id, kind, confidence, batch"
BY_TIME_COLUMNS = "rid, ts_us, lat, lon, plate, camera_id"

#: tables whose rows carry ``ts_us`` and may be rewritten a day at a time (:func:`rewrite_days`)
_DAY_TABLES = {READS: READ_COLUMNS, BY_TIME: f"{BY_TIME_COLUMNS}, vid"}


def next_counter(cur: duckdb.DuckDBPyConnection, name: str, n: int = 1) -> int:
    """Reserve ``n`` values of a counter inside the caller's transaction; returns the first.

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        An open warehouse transaction.
    name : str
        ``rid``, ``batch`` or ``vid``.
    n : int
        How many values to reserve.

    Returns
    -------
    int
        The first reserved value.
    """
    rows = cur.execute(
        "UPDATE anpr_counters SET value = value + ? WHERE name = ? RETURNING value", [n, name]
    ).fetchall()  # fetch to the end: DuckDB refuses more work on a cursor with an unfinished result
    return int(rows[0][0]) - n + 1


def query_arrow(cur: duckdb.DuckDBPyConnection, table: pa.Table, name: str, sql: str) -> pa.Table:
    """Run ``sql`` with ``table`` visible as ``name``, inside the cursor's transaction.

    A relation rather than ``register()``: DuckDB keeps a registered table alive until the
    transaction ends, which in a 100-million-read import is every chunk ever registered.
    """
    rel = cur.from_arrow(table).query(name, sql)
    assert rel is not None  # a SELECT always yields a relation
    result: pa.Table = rel.to_arrow_table()
    return result


def exec_(cur: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> None:
    """Run one statement and consume its result, so the connection is free for the next one."""
    cur.execute(sql, params).fetchall()


def rewrite_days(
    wh: Warehouse,
    table: str,
    order: str,
    *,
    ts_from: int | None = None,
    ts_to: int | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Rewrite ``table`` a UTC day (by ``ts_us``) per transaction, each day sorted by ``order``.

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    table : str
        :data:`READS` or :data:`BY_TIME`.
    order : str
        The sort within a day (column names of ``table``).
    ts_from, ts_to : int, optional
        Rewrite the days of the rows with ``ts_from <= ts_us < ts_to`` (default: every day).
    progress : callable, optional
        Called as ``progress(done_days, all_days, rows)`` after each day.

    Returns
    -------
    int
        Rows rewritten.
    """
    columns = _DAY_TABLES[table]  # KeyError for any other table: names never come from input
    lo = -(2**63) if ts_from is None else int(ts_from)
    hi = 2**63 - 1 if ts_to is None else int(ts_to)
    # the one assembled statement family of this module: table, columns and order are the
    # constants above; the day bounds are bound parameters
    days = [
        int(r[0])
        for r in wh.query(
            f"SELECT DISTINCT ts_us // {DAY_US} FROM {table} WHERE ts_us >= ? AND ts_us < ? ORDER BY 1",  # noqa: S608 - constant table name
            [lo, hi],
        )
    ]
    total = 0
    span = "ts_us >= ? AND ts_us < ?"
    for done, day in enumerate(days, start=1):
        bounds: list[object] = [day * DAY_US, (day + 1) * DAY_US]
        with wh.transaction() as cur:
            exec_(cur, f"CREATE TEMP TABLE _rewrite AS SELECT {columns} FROM {table} WHERE {span} ORDER BY {order}",  # noqa: S608 - constant names
                  bounds)
            exec_(cur, f"DELETE FROM {table} WHERE {span}", bounds)  # noqa: S608 - constant table name
            row = cur.execute(f"INSERT INTO {table} SELECT {columns} FROM _rewrite").fetchall()  # noqa: S608 - constant names
            exec_(cur, "DROP TABLE _rewrite")
        n = int(row[0][0]) if row else 0
        total += n
        if progress:
            progress(done, len(days), n)
    wh.checkpoint()
    return total
