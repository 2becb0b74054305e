"""The operations database: SQLAlchemy 2 engine, sessions and Alembic migrations.

Runs unchanged on SQLite (embedded default: WAL, foreign keys on, one writer at a time) and on
PostgreSQL (production).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from precinct.config import Settings
from precinct.core.timeutil import utcnow  # noqa: F401  (re-exported: domains import it from here)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# A pooled PostgreSQL connection idle longer than this is pinged before use (see ``_ping_if_idle``).
PING_AFTER_IDLE_S = 10.0


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def make_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and, for writers, ``BEGIN IMMEDIATE``.

    ``BEGIN IMMEDIATE`` makes every SQLite write transaction take the single write lock up front,
    so two writers queue (busy timeout) instead of failing half-way with a stale snapshot; the
    audit chain relies on appends being serialised. A ``read_only`` SQLite engine uses deferred
    transactions (WAL readers never wait for the writer) and ``PRAGMA query_only`` so a write
    through it fails loudly instead of racing.
    """
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30, "isolation_level": None}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            if read_only:
                cur.execute("PRAGMA query_only=ON")
            cur.close()

        begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_if_idle(engine)
    return engine


def _ping_if_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle in the pool for a while.

    ``pool_pre_ping`` costs a ``SELECT 1`` round trip (and autocommit toggles) on every checkout,
    twice per request (token check and route); under load that is most of a read's round trips.
    A connection in steady use is known to be alive; one idle for ``PING_AFTER_IDLE_S`` (the
    server may have restarted meanwhile) is pinged, and a dead one is replaced before use.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn: Any, record: Any) -> None:
        record.info["precinct_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("precinct_idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # just connected, or in steady use
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as err:  # any failure means: replace the connection
            raise exc.DisconnectionError(f"idle pooled connection is dead: {err}") from err
        if not alive:
            raise exc.DisconnectionError("idle pooled connection is dead")


class Database:
    """Owns the engines and session factories for one operations database.

    ``session()`` is the unit of work for changes (commit or roll back as a whole);
    ``sessionmaker()`` opens a read session. On SQLite reads use their own engine so they never
    take the write lock; on PostgreSQL both are the same engine.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.read_engine = make_engine(url, read_only=True) if self.engine.dialect.name == "sqlite" else self.engine
        self.sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)
        # Reads whose statements may each see the latest committed data (PostgreSQL's READ COMMITTED
        # gives no more inside a transaction): autocommit, so no BEGIN / ROLLBACK round trips.
        self.statement_reads = (
            sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
            if self.engine.dialect.name == "postgresql"
            else self.sessionmaker
        )
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing this process's writers on a lock wakes the next
        # one as soon as the lock is free, instead of SQLite's busy handler sleeping 1..100 ms.
        self.write_lock: threading.RLock | nullcontext[None] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        settings.ensure_dirs()
        return cls(settings.sqlalchemy_url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self.write_lock, self._writer() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest revision of every domain branch (``upgrade heads``)."""
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine=engine), revision)
