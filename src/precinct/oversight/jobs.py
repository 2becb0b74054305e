"""Supervision's background jobs in the API server: audit checkpoints and retention runs.

Both run on one worker only: the checkpoint on the leader (:mod:`precinct.core.jobs`); the
retention run where the analytics warehouse is (DuckDB admits one process: the process that has it
open runs it, or else the leader, which opens the warehouse for the run and closes it afterwards).
Not started in tests (``environment == "test"``), which run them directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from precinct.config import Settings
from precinct.core import anchor
from precinct.core.db import Database
from precinct.core.jobs import JobRunner, leadership
from precinct.errors import NotReady

log = logging.getLogger("precinct.oversight")


def run_retention(*, db: Database, settings: Settings, actor: str = "retention",
                  now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Erase what is past its retention period in every domain (each erasure audited)."""
    from precinct.domains import domain_modules

    now = now or dt.datetime.now(dt.UTC)
    out: list[dict[str, Any]] = []
    for module in domain_modules("retention"):
        out.extend(module.run(db=db, settings=settings, now=now, actor=actor))
    return out


def retention_here(db: Database, settings: Settings) -> list[dict[str, Any]] | None:
    """One background retention run, if this process is where it belongs (see the module text);
    None when it is not."""
    from precinct.core.warehouse import _REGISTRY, Warehouse

    path = (settings.data_dir / "warehouse" / "precinct.duckdb").resolve()
    wh = _REGISTRY.get(path)
    opened_here = wh is not None and not wh._closed
    if not opened_here:
        if not leadership(str(db.engine.url.render_as_string(hide_password=False))).holds():
            return None
        try:
            Warehouse.for_settings(settings)
        except NotReady:
            return None  # another process (the warehouse worker) has it, and runs retention there
    try:
        summaries = run_retention(db=db, settings=settings)
    finally:
        if not opened_here:
            Warehouse.close_for(settings)
    log.info("retention run: %s", summaries)
    return summaries


def setup_jobs(app: Any) -> None:
    """Register the checkpoint and retention jobs and start them with the app (not in tests)."""
    settings: Settings = app.state.settings
    if settings.environment == "test":
        return
    db: Database = app.state.db
    checkpoints = JobRunner(db)
    checkpoints.add("audit.checkpoint", lambda: anchor.write_checkpoint(db.engine, settings),
                    settings.audit_anchor_every_s)
    retention = RetentionTicker(db, settings)

    async def _start(app: Any) -> None:
        checkpoints.start()
        retention.start()

    async def _stop(app: Any) -> None:
        await checkpoints.stop()
        await retention.stop()

    app.state.oversight_jobs = (checkpoints, retention)
    app.state.startup_hooks.append(_start)
    app.state.shutdown_hooks.append(_stop)


class RetentionTicker:
    """Every ``retention_every_hours``, a retention run where it belongs (:func:`retention_here`)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.every_s = settings.retention_every_hours * 3600.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.every_s > 0:
            self._task = asyncio.create_task(self._loop(), name="oversight-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await asyncio.to_thread(retention_here, self.db, self.settings)
            except Exception:
                log.exception("background retention run failed")
