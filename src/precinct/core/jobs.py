"""Background jobs that run exactly once across several API workers.

Every worker starts the same background loops (overdue flags, order escalation, retention, audit
checkpoints); only the **leader** does the work. Leadership is a lock the database server holds for
a live connection:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a dedicated connection.
  When the leader dies (even by SIGKILL) the server drops its connection and the lock with it; the
  next worker to try takes over within :data:`RETRY_S`.
- SQLite (one machine): an exclusive ``flock`` on ``<database>.leader`` beside the database file,
  released by the kernel when the process dies.

Migrations need no lock of their own here: on PostgreSQL the migration transaction takes a
transaction-level advisory lock first (``precinct/migrations/env.py``), on SQLite ``BEGIN IMMEDIATE``
serialises it; the second worker then finds the schema current and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger("precinct.jobs")

LEADER_LOCK = 0x50524543_4C454144  # "PRECLEAD"; a fixed 64-bit key, the same in every worker
MIGRATION_LOCK = 0x50524543_4D494752  # "PRECMIGR" (used by migrations/env.py)
RETRY_S = 2.0  # how often a follower tries to take over, and the leader re-checks its connection


class Leadership:
    """Whether this process is the leader among the workers of one operations database.

    :meth:`holds` is cheap to call often: it tries to take the lock at most every ``RETRY_S``
    seconds, and a leader re-checks its lock connection as often (a database restart ends the
    leadership; another worker, or this one, takes it again once the database is back).
    """

    def __init__(self, url: str, *, retry_s: float = RETRY_S) -> None:
        self.url = url
        self.retry_s = retry_s
        self._lock = threading.Lock()
        self._held = False
        self._checked = float("-inf")
        self._engine: Engine | None = None
        self._conn: Any = None
        self._file: Any = None
        backend = make_url(url).get_backend_name()
        self.kind = "postgresql" if backend == "postgresql" else "sqlite"
        database = make_url(url).database if backend == "sqlite" else None
        self._path = Path(f"{database}.leader") if database and database != ":memory:" else None

    def holds(self) -> bool:
        """True when this process leads (taking or re-checking the lock when it is time)."""
        with self._lock:
            now = time.monotonic()
            if now - self._checked < self.retry_s:
                return self._held
            self._checked = now
            try:
                self._held = self._check() if self._held else self._try_take()
            except Exception as exc:
                log.warning("leadership check failed: %s", type(exc).__name__)
                self._drop()
            return self._held

    def release(self) -> None:
        with self._lock:
            self._drop()

    # --- PostgreSQL and SQLite specifics ------------------------------------------------------

    def _try_take(self) -> bool:
        if self.kind == "postgresql":
            if self._engine is None:
                self._engine = create_engine(self.url, poolclass=NullPool,
                                             connect_args={"connect_timeout": 3})
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK}).scalar())
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        if self._path is None:
            return True  # an in-memory database belongs to this process alone
        import fcntl

        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self._path, "a+")  # noqa: SIM115 - held open while leading
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def _check(self) -> bool:
        if self._conn is not None:
            self._conn.exec_driver_sql("SELECT 1")
        return True

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
            self._file = None


_LEADERS: dict[str, Leadership] = {}
_LEADERS_LOCK = threading.Lock()


def leadership(url: str) -> Leadership:
    """The process-wide :class:`Leadership` for the database at ``url``."""
    with _LEADERS_LOCK:
        lead = _LEADERS.get(url)
        if lead is None:
            lead = _LEADERS[url] = Leadership(url)
        return lead


def db_url(db: Any) -> str:
    """The full URL of a :class:`~precinct.core.db.Database` (password included: it is a key)."""
    return str(db.engine.url.render_as_string(hide_password=False))


async def is_leader(db: Any) -> bool:
    """True when this worker leads for ``db`` (the check runs off the event loop)."""
    return await asyncio.to_thread(leadership(db_url(db)).holds)


@dataclass
class Job:
    """A periodic job: ``run`` (sync, run in a thread, or async) every ``every_s`` seconds."""

    name: str
    run: Callable[[], Any]
    every_s: float
    next_at: float = field(default=0.0)


class JobRunner:
    """Runs registered jobs on the leader only; every worker has one, all but one stay idle.

    A job's first run is one period after the worker became leader (a restarting cluster does not
    rerun everything at once). Errors are logged and the job runs again next period.
    """

    def __init__(self, db: Any, *, tick_s: float = 1.0) -> None:
        self.db = db
        self.tick_s = tick_s
        self.jobs: list[Job] = []
        self.runs: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._leading = False

    def add(self, name: str, run: Callable[[], Any] | Callable[[], Awaitable[Any]], every_s: float) -> None:
        if every_s > 0:
            self.jobs.append(Job(name, run, every_s))

    def start(self) -> None:
        if self.jobs and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="precinct-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            leading = await is_leader(self.db)
            now = time.monotonic()
            if leading and not self._leading:
                log.info("this worker (pid %d) now runs the background jobs", os.getpid())
                for job in self.jobs:
                    job.next_at = now + job.every_s
            self._leading = leading
            if not leading:
                continue
            for job in self.jobs:
                if now < job.next_at:
                    continue
                job.next_at = now + job.every_s
                try:
                    if inspect.iscoroutinefunction(job.run):
                        await job.run()
                    else:
                        await asyncio.to_thread(job.run)
                    self.runs[job.name] = self.runs.get(job.name, 0) + 1
                except Exception:
                    log.exception("background job %s failed", job.name)
