"""The analytics warehouse: the single owner of the DuckDB engine (nothing else opens DuckDB).

Plate/tag reads and other high-volume, append-mostly data live in one DuckDB database file
(``<data_dir>/warehouse/precinct.duckdb``). DuckDB gives ACID transactions with a write-ahead log,
so a batch is durable once :meth:`Warehouse.transaction` commits; it is single-process (one process
opens the file read-write), so the API server and the CLI take turns (a second opener gets a clear
:class:`~precinct.errors.NotReady`).

Layout for pruning: every table keeps DuckDB's per-row-group min/max statistics ("zone maps");
writers insert rows ordered by (day, key) so that a time window touches only its days' row groups
and an equality lookup on the key touches about one row group per day.

The same SQL text runs on Apache Spark (:class:`SparkEngine`) over Parquet exported by
:meth:`Warehouse.export_parquet` (partitioned by ``day``), for data that outgrows one machine.
Queries are written in the subset of SQL both engines share (see ``precinct.anpr.queries``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from precinct.config import Settings, get_settings
from precinct.errors import NotReady, SpillLimit

_REGISTRY: dict[Path, Warehouse] = {}
MAX_DEFAULT_MEMORY = 4 << 30
EMPTY_PARQUET = "empty.parquet"  # the schema-only file of an export with no rows
RESERVE_BYTES = int(os.environ.get("PRECINCT_WAREHOUSE_RESERVE_MB", "256")) << 20
MIN_AUTO_SPILL = 256 << 20
SPILL_SETTING = "PRECINCT_WAREHOUSE_MAX_SPILL"


def default_memory_limit() -> str:
    """DuckDB's memory limit when none is given: a fifth of physical memory, 512 MiB..4 GiB.

    DuckDB's own default (80 % of RAM) lets one large import transaction grow the process to most
    of the machine (100 million reads reached 8 GiB at a third of the way); with a limit, DuckDB
    spills the transaction's row groups to disk and an import runs in bounded memory.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 << 30
    return f"{max(512 << 20, min(MAX_DEFAULT_MEMORY, total // 5)) >> 20}MB"


def default_max_spill(folder: Path) -> int:
    """The spill cap when none is set (``auto``): half the disk free at ``folder`` now, at least 256 MiB.

    DuckDB's own default is 90 % of the free disk: at one billion reads the whole-history presence
    index build spilled 18.4 GiB and took free disk from 20.8 to 2.4 GiB (docs/BENCHMARKS.md, "A
    county-year at one billion reads"), leaving the SQLite database, the warehouse's own WAL and
    checkpoints and the logs on the same disk next to nothing. Half keeps the other half for them
    whatever the disk's size (a fixed cap would be too small on a large disk and too large on a
    small one); a bigger job fails with :class:`~precinct.errors.SpillLimit`, naming the setting
    that allows it. Measured once, at open: the cap must not shrink while a query runs.
    """
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return max(MIN_AUTO_SPILL, shutil.disk_usage(folder).free // 2)


_REGISTRY_LOCK = threading.Lock()


class Warehouse:
    """Owns one DuckDB database; hands out cursors and serialises writers.

    Reads run on per-call cursors (DuckDB cursors are safe to use from one thread each and see
    committed data); writes go through :meth:`transaction`, which holds a process-wide write lock
    so check-then-insert logic (deduplication) is race-free.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        max_spill: int | None = None,
        temp_directory: Path | None = None,
    ) -> None:
        """Open (or create) the DuckDB file at ``path``.

        Parameters
        ----------
        path : Path or str
            The database file, or ``":memory:"``.
        threads : int, optional
            DuckDB worker threads (default: one per core).
        memory_limit : str, optional
            DuckDB memory limit such as ``"2GB"`` (default: :func:`default_memory_limit`).
        max_spill : int, optional
            Bytes of temporary files DuckDB may write when a query outgrows ``memory_limit``; 0 never
            spills (default: :func:`default_max_spill`; ``PRECINCT_WAREHOUSE_MAX_SPILL``).
        temp_directory : Path, optional
            Where those files go (default: ``spill`` beside the database file; for ``":memory:"``,
            DuckDB's own default).
        """
        self.path = Path(path)
        memory = str(path) == ":memory:"
        if not memory:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if threads:
            config["threads"] = threads
        config["memory_limit"] = memory_limit or default_memory_limit()
        self.temp_directory = temp_directory or (None if memory else self.path.parent / "spill")
        if self.temp_directory is not None:
            config["temp_directory"] = str(self.temp_directory)
        if max_spill is None and self.temp_directory is not None:
            max_spill = default_max_spill(self.temp_directory)
        self.max_spill = max_spill  # None: DuckDB's default (an in-memory warehouse without a folder)
        try:
            self._con = duckdb.connect(str(path), config=config)
        except duckdb.IOException as exc:  # another process holds the write lock on the file
            raise NotReady(
                "the analytics warehouse is in use by another Precinct process (DuckDB allows one); "
                "stop the server or run this through the API",
                detail={"path": str(path), "reason": str(exc).splitlines()[0][:200]},
            ) from exc
        if max_spill is not None:
            # a SET, not the connect config: DuckDB 2.0.0 reports a max_temp_directory_size given at
            # connect but does not enforce it (a 4 MiB cap let a join write 260 MiB of temp files)
            self._con.execute(f"SET max_temp_directory_size = '{int(max_spill)}B'")
        self._write_lock = threading.RLock()
        self._closed = False
        self.reserve_bytes = RESERVE_BYTES  # a write transaction needs this much free disk to start
        self.schemas: set[str] = set()  # domains mark the schemas they have ensured

    # --- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def for_settings(cls, settings: Settings) -> Warehouse:
        """The process-wide warehouse for ``settings.data_dir`` (opened on first use)."""
        path = (settings.data_dir / "warehouse" / "precinct.duckdb").resolve()
        if not settings.warehouse_here:
            raise NotReady("this API worker does not open the analytics warehouse (PRECINCT_WAREHOUSE_HERE=false); "
                           "the warehouse process serves /api/v1/anpr/", detail={"path": str(path)})
        with _REGISTRY_LOCK:
            wh = _REGISTRY.get(path)
            if wh is None or wh._closed:
                wh = cls(path, max_spill=settings.warehouse_max_spill_bytes)
                _REGISTRY[path] = wh
            return wh

    @classmethod
    def close_for(cls, settings: Settings) -> None:
        """Close the warehouse of ``settings.data_dir`` if this process opened it."""
        path = (settings.data_dir / "warehouse" / "precinct.duckdb").resolve()
        with _REGISTRY_LOCK:
            wh = _REGISTRY.pop(path, None)
        if wh is not None:
            wh.close()

    @classmethod
    def close_all(cls) -> None:
        with _REGISTRY_LOCK:
            for wh in _REGISTRY.values():
                wh.close()
            _REGISTRY.clear()

    def close(self) -> None:
        with self._write_lock:
            if not self._closed:
                self._closed = True
                self._con.close()

    # --- reading -----------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the shared database (use from one thread, close when done)."""
        return self._con.cursor()

    def query(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None = None,
        *,
        tables: dict[str, pa.Table] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run ``sql`` and return all rows; ``tables`` are Arrow tables visible by name."""
        cur = self.cursor()
        try:
            for name, table in (tables or {}).items():
                cur.register(name, table)
            with self._spill_checked():
                return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def query_arrow(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None = None,
        *,
        tables: dict[str, pa.Table] | None = None,
    ) -> pa.Table:
        cur = self.cursor()
        try:
            for name, t in (tables or {}).items():
                cur.register(name, t)
            with self._spill_checked():
                result: pa.Table = (
                    cur.sql(sql, params=params) if params else cur.sql(sql)
                ).to_arrow_table()
            return result
        finally:
            cur.close()

    # --- writing -----------------------------------------------------------------------------

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the writer lock across several transactions (a schema upgrade runs as one writer)."""
        with self._write_lock:
            yield

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write transaction under the writer lock; commits (durably, via the WAL) on success.

        Refuses before any work (:class:`~precinct.errors.NotReady`) when the disk has less than
        ``reserve_bytes`` free; a write that still finds the disk full is rolled back whole and
        reported the same way (DuckDB keeps the database as it was before the transaction).
        """
        with self._write_lock:
            self._check_space()
            cur = self.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                try:
                    yield cur
                except BaseException as exc:
                    with contextlib.suppress(duckdb.Error):
                        cur.execute("ROLLBACK")
                    full = self._disk_full(exc) or self._spill_limit(exc)
                    if full is not None:
                        raise full from exc
                    raise
                try:
                    cur.execute("COMMIT")
                except duckdb.Error as exc:
                    full = self._disk_full(exc) or self._spill_limit(exc)
                    if full is not None:
                        raise full from exc
                    raise
            finally:
                cur.close()

    def _check_space(self) -> None:
        if str(self.path) == ":memory:" or self.reserve_bytes <= 0:
            return
        free = shutil.disk_usage(self.path.parent).free
        if free < self.reserve_bytes:
            raise NotReady(
                f"the analytics warehouse's disk is full ({free >> 20} MiB free at {self.path.parent}, "
                f"{self.reserve_bytes >> 20} MiB kept in reserve): nothing was written; free space and retry",
                detail={"reason": "disk_full", "path": str(self.path.parent), "free_bytes": free})

    def _disk_full(self, exc: BaseException) -> NotReady | None:
        text = str(exc)
        full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)) or any(
            m in text for m in ("No space left on device", "File too large", "Disk quota exceeded"))
        if not full:
            return None
        return NotReady(
            f"the analytics warehouse's disk is full at {self.path.parent}: the batch was rolled back, nothing "
            "of it was stored; free space and retry",
            detail={"reason": "disk_full", "path": str(self.path.parent)})

    def _spill_limit(self, exc: BaseException) -> SpillLimit | None:
        """:class:`SpillLimit` for DuckDB's refusal to spill past ``max_temp_directory_size``."""
        if not (isinstance(exc, duckdb.OutOfMemoryException) and "max_temp_directory_size" in str(exc)):
            return None
        cap = f"{self.max_spill / 2**30:.2f} GiB" if self.max_spill is not None else "DuckDB's default"
        return SpillLimit(
            f"a warehouse query needed more temporary disk than {SPILL_SETTING} allows ({cap} in "
            f"{self.temp_directory or 'the working directory'}): it was stopped and the warehouse is unchanged; raise "
            f"{SPILL_SETTING} (and make sure that much disk is free there), or narrow the query",
            detail={"reason": "spill_limit", "setting": SPILL_SETTING, "max_spill_bytes": self.max_spill,
                    "temp_directory": str(self.temp_directory) if self.temp_directory else None})

    @contextmanager
    def _spill_checked(self) -> Iterator[None]:
        try:
            yield
        except duckdb.Error as exc:
            limit = self._spill_limit(exc)
            if limit is not None:
                raise limit from exc
            raise

    def execute_script(self, sql: str) -> None:
        with self._write_lock:
            cur = self.cursor()
            try:
                with self._spill_checked():
                    cur.execute(sql)
            finally:
                cur.close()

    def checkpoint(self) -> None:
        with self._write_lock:
            cur = self.cursor()
            try:
                cur.execute("CHECKPOINT")
            finally:
                cur.close()

    # --- Parquet -----------------------------------------------------------------------------

    def export_parquet(
        self,
        table: str,
        out_dir: Path,
        *,
        partition_by: str | None = "day",
        day_column: str = "ts_us",
    ) -> Path:
        """Write ``table`` as Parquet under ``out_dir`` (hive-partitioned by day when asked).

        A partitioned export replaces every file of an earlier one. An empty table still leaves
        a readable dataset: one zero-row file, ``empty.parquet``, that carries the schema (a
        partitioned export of no rows writes no file at all, and Spark cannot infer the schema
        of an empty folder: ``UNABLE_TO_INFER_SCHEMA``).
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in (table, day_column, partition_by or "day"):
            if not name.isidentifier():
                raise ValueError(f"bad identifier {name!r}")
        with contextlib.closing(self.cursor()) as cur, self._spill_checked():
            # identifiers are checked above (names from the caller's code, never from input); the
            # target path is a bound parameter
            if partition_by:
                select = f"SELECT *, ({day_column} // 86400000000)::INTEGER AS {partition_by} FROM {table}"  # noqa: S608 - checked identifiers
                # OVERWRITE first removes every file of an earlier export (days dropped by retention
                # since, and a schema-only file), so the export is exactly the table
                cur.execute(
                    f"COPY ({select}) TO ? (FORMAT PARQUET, PARTITION_BY ({partition_by}), OVERWRITE TRUE)",
                    [str(out_dir)],
                )
                if next(out_dir.rglob("*.parquet"), None) is None:
                    cur.execute(f"COPY ({select} LIMIT 0) TO ? (FORMAT PARQUET)", [str(out_dir / EMPTY_PARQUET)])
            else:
                cur.execute(f"COPY {table} TO ? (FORMAT PARQUET)", [str(out_dir / f"{table}.parquet")])
        return out_dir


class SparkEngine:
    """Runs the warehouse's SQL text on Apache Spark over Parquet (local mode or a cluster).

    Tables are registered as temporary views from Parquet directories or Arrow tables, then the
    same SQL the DuckDB warehouse runs is executed with ``spark.sql``.
    """

    def __init__(
        self,
        master: str | None = None,
        app_name: str = "precinct",
        *,
        conf: dict[str, str] | None = None,
    ) -> None:
        """Start (or join) a Spark session.

        Parameters
        ----------
        master : str, optional
            Spark master URL: ``local[N]`` runs in this process, ``spark://host:port`` on a
            standalone cluster (whose executors must see the Parquet export's path, e.g. a shared
            file system). Default: the ``spark_master`` setting (``PRECINCT_SPARK_MASTER``,
            ``local[2]`` unless set).
        app_name : str
            The application's name in the cluster's UI.
        conf : dict of str to str, optional
            Further Spark settings (they override the defaults set here).
        """
        from pyspark.sql import SparkSession

        if master is None:
            master = get_settings().spark_master
        builder = (
            SparkSession.builder.master(master)
            .appName(app_name)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.memory", "1g")
        )
        for key, value in (conf or {}).items():
            builder = builder.config(key, value)
        self.master = master
        self.spark = builder.getOrCreate()
        actual = self.spark.sparkContext.master
        if actual != master:  # getOrCreate hands back a running session whatever was asked
            self.spark.stop()
            self.spark = builder.getOrCreate()

    def register_parquet(self, name: str, path: Path) -> None:
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            schema = ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in table.schema)
            self.spark.createDataFrame([], schema).createOrReplaceTempView(name)
            return
        self.spark.createDataFrame(table.to_pandas()).createOrReplaceTempView(name)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def stop(self) -> None:
        self.spark.stop()


def _spark_type(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_boolean(t):
        return "boolean"
    return "string"
