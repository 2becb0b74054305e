"""Numbered migrations of the analytics warehouse (DuckDB), with a schema-version table.

The operations database has Alembic; the warehouse has this: an ordered list of migrations
(``vNNNN_<name>.py``, each with ``VERSION``, ``NAME`` and ``upgrade(cur)``), and the table

``warehouse_schema_version`` (version INTEGER, name VARCHAR, applied_at TIMESTAMP (UTC),
precinct_version VARCHAR, how VARCHAR)
    one row per migration the warehouse has had: when, by which Precinct release, and ``how``:
    ``applied`` (run here) or ``adopted`` (a warehouse written before versioning already had the
    layout of 0001; it is recorded, not run, and the later migrations bring older forms up).

:func:`upgrade` applies the pending migrations once each, in order, each in its own transaction
together with its version row (DuckDB's DDL is transactional), so a failing migration leaves
the warehouse and its version as they were. It runs at start-up (the first use of the warehouse
by :mod:`precinct.anpr`: :func:`ensure_current`) and on ``precinct warehouse upgrade``;
``precinct warehouse status`` shows :func:`status`.

Adding a migration: a new ``vNNNN_<name>.py`` next to these (the next number), listed in
:data:`MIGRATIONS`; state its schema in SQL text (a migration never imports the code that uses the
tables), make it run inside a transaction, and test it on a warehouse of the previous version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

import duckdb

from precinct import __version__
from precinct.anpr.warehouse_migrations import (
    v0001_layout,
    v0002_links_link_id,
    v0003_presence_projections,
    v0004_presence_by_cell,
)
from precinct.core.warehouse import Warehouse
from precinct.errors import Conflict, NotReady

VERSION_TABLE = "warehouse_schema_version"
_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS warehouse_schema_version (
    version INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    precinct_version VARCHAR NOT NULL,
    how VARCHAR NOT NULL
)
"""
MARK = "warehouse.schema"  # in Warehouse.schemas once this process has brought the file up to date


@dataclass(frozen=True)
class Migration:
    """One numbered step of the warehouse schema."""

    version: int
    name: str
    upgrade: Callable[[duckdb.DuckDBPyConnection], None]
    doc: str = ""

    @classmethod
    def of(cls, module: ModuleType) -> Migration:
        """The migration a ``vNNNN_<name>`` module defines."""
        summary = (module.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        return cls(int(module.VERSION), str(module.NAME), module.upgrade, summary)


#: every migration, in order (versions 1..N without gaps)
MIGRATIONS: tuple[Migration, ...] = tuple(
    Migration.of(m)
    for m in (v0001_layout, v0002_links_link_id, v0003_presence_projections, v0004_presence_by_cell)
)


@dataclass(frozen=True)
class Applied:
    """A row of ``warehouse_schema_version``."""

    version: int
    name: str
    applied_at: dt.datetime
    precinct_version: str
    how: str


@dataclass(frozen=True)
class Status:
    """Where a warehouse stands: its version, what it has had and what is pending."""

    version: int
    latest: int
    applied: list[Applied]
    pending: list[Migration]
    unversioned: bool  # written by a release before versioning (adopted on the next upgrade)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (``precinct warehouse status --format json``)."""
        return {
            "version": self.version,
            "latest": self.latest,
            "current": not self.pending,
            "unversioned": self.unversioned,
            "applied": [
                {"version": a.version, "name": a.name, "applied_at": a.applied_at.isoformat() + "Z",
                 "precinct_version": a.precinct_version, "how": a.how}
                for a in self.applied
            ],
            "pending": [{"version": m.version, "name": m.name, "doc": m.doc} for m in self.pending],
        }


def _check_order(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"warehouse migrations must be numbered 1..N in order, got {versions}")


def _has_table(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
        [name],
    ).fetchall()
    return bool(rows[0][0])


def _applied(cur: duckdb.DuckDBPyConnection) -> list[Applied]:
    if not _has_table(cur, VERSION_TABLE):
        return []
    rows = cur.execute(
        "SELECT version, name, applied_at, precinct_version, how FROM warehouse_schema_version ORDER BY version"
    ).fetchall()
    return [Applied(int(r[0]), str(r[1]), r[2], str(r[3]), str(r[4])) for r in rows]


def _unversioned(cur: duckdb.DuckDBPyConnection) -> bool:
    """Written by a release before versioning: reads stored, no version table."""
    return not _has_table(cur, VERSION_TABLE) and _has_table(cur, "anpr_reads")


def status(wh: Warehouse, *, migrations: Sequence[Migration] = MIGRATIONS) -> Status:
    """The warehouse's schema version, its applied and its pending migrations (changes nothing).

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    migrations : sequence of Migration, optional
        The known migrations (default :data:`MIGRATIONS`; tests pass their own).

    Returns
    -------
    Status
        ``version`` 0 for an empty (or unversioned) warehouse.
    """
    _check_order(migrations)
    cur = wh.cursor()
    try:
        applied = _applied(cur)
        unversioned = _unversioned(cur)
    finally:
        cur.close()
    version = max((a.version for a in applied), default=0)
    return Status(version, len(migrations), applied, [m for m in migrations if m.version > version], unversioned)


def _record(cur: duckdb.DuckDBPyConnection, m: Migration, how: str) -> None:
    cur.execute(
        "INSERT INTO warehouse_schema_version VALUES (?, ?, ?, ?, ?)",
        [m.version, m.name, dt.datetime.now(dt.UTC).replace(tzinfo=None), __version__, how],  # UTC, naive
    ).fetchall()


def upgrade(
    wh: Warehouse,
    *,
    migrations: Sequence[Migration] = MIGRATIONS,
    progress: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply the pending migrations, once each, in order, one transaction each.

    A warehouse written before versioning (``anpr_reads`` but no version table) is first adopted
    at version 1 (recorded as ``adopted``); an empty one starts from 0001.

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    migrations : sequence of Migration, optional
        The known migrations (default :data:`MIGRATIONS`).
    progress : callable, optional
        Called with each migration before it runs.

    Returns
    -------
    list of Migration
        The migrations applied now (empty when the warehouse was current).

    Raises
    ------
    Conflict
        The warehouse has a version newer than this release knows.
    NotReady
        A migration raised; it was rolled back and the warehouse stays at the version before it.
    """
    _check_order(migrations)
    done: list[Migration] = []
    with wh.exclusive():  # one upgrader per process (DuckDB allows one process per file)
        with wh.transaction() as cur:
            adopt = _unversioned(cur)
            cur.execute(_VERSION_DDL).fetchall()
            if adopt and migrations:
                _record(cur, migrations[0], "adopted")
            version = max((a.version for a in _applied(cur)), default=0)
        if version > len(migrations):
            raise Conflict(
                f"the warehouse is at schema version {version}, newer than this Precinct "
                f"({__version__}) knows ({len(migrations)}); upgrade Precinct",
                detail={"version": version, "latest": len(migrations), "path": str(wh.path)},
            )
        for m in migrations[version:]:
            if progress:
                progress(m)
            try:
                with wh.transaction() as cur:  # the migration and its version row, or neither
                    m.upgrade(cur)
                    _record(cur, m, "applied")
            except Exception as exc:  # any failure: rolled back; say which step and where it stays
                raise NotReady(
                    f"warehouse migration {m.version:04d} {m.name} failed and was rolled back; the "
                    f"warehouse stays at schema version {version}: {exc}",
                    detail={"migration": m.version, "name": m.name, "version": version, "path": str(wh.path)},
                ) from exc
            version = m.version
            done.append(m)
    return done


def ensure_current(wh: Warehouse) -> None:
    """Bring ``wh`` to the latest schema once per process (start-up: the first use of the warehouse).

    Parameters
    ----------
    wh : Warehouse
        The analytics warehouse.
    """
    if MARK in wh.schemas:
        return
    with wh.exclusive():
        if MARK not in wh.schemas:
            upgrade(wh)
            wh.schemas.add(MARK)
