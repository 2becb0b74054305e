"""Readiness of one worker (database, bus, warehouse) and fast 503s while the database is away.

A load balancer takes a worker out of rotation while ``/api/v1/ready`` answers 503, and puts it back
when it answers 200 again; no restart is needed after an outage. While the operations database is
unreachable, requests fail at once with ``503 not_ready`` (not a 500 after a long hang): the
connection attempt is refused, or times out after the URL's ``connect_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

log = logging.getLogger("precinct.health")
CHECK_TIMEOUT_S = 3.0


def _database(app: FastAPI) -> str | None:
    db = app.state.db
    try:
        with db.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return f"database unavailable: {type(exc).__name__}"
    return None


def _warehouse(app: FastAPI) -> tuple[str | None, str]:
    """(problem or None, state): the directory is writable with room to spare; if this worker has
    the DuckDB file open, it answers a query."""
    from precinct.core.warehouse import _REGISTRY, RESERVE_BYTES

    settings = app.state.settings
    if not settings.warehouse_here:
        return None, "served by the warehouse process"
    directory = settings.data_dir / "warehouse"
    path = (directory / "precinct.duckdb").resolve()
    wh = _REGISTRY.get(path)
    state = "open in this worker" if wh is not None and not wh._closed else "not open in this worker"
    probe = directory if directory.is_dir() else settings.data_dir
    if not os.access(probe, os.W_OK):
        return f"warehouse directory {probe} is not writable", state
    free = shutil.disk_usage(probe).free
    if free < RESERVE_BYTES:
        return f"warehouse disk nearly full ({free >> 20} MiB free at {probe})", state
    if wh is not None and not wh._closed:
        try:
            wh.query("SELECT 1")
        except Exception as exc:
            return f"warehouse does not answer: {type(exc).__name__}", state
    return None, state


async def readiness(app: FastAPI) -> tuple[bool, dict[str, Any]]:
    """Check the database, the bus and the warehouse, each within ``CHECK_TIMEOUT_S``."""
    body: dict[str, Any] = {"database": app.state.db.dialect, "pid": os.getpid()}
    problems: dict[str, str] = {}

    async def bounded(name: str, coro: Any) -> Any:
        try:
            return await asyncio.wait_for(coro, CHECK_TIMEOUT_S)
        except TimeoutError:
            problems[name] = f"{name} check timed out after {CHECK_TIMEOUT_S:.0f} s"
            return None

    db_problem = await bounded("database", asyncio.to_thread(_database, app))
    if db_problem:
        problems["database"] = db_problem
    bus = app.state.bus
    check = getattr(bus, "check", None)
    bus_problem = await bounded("bus", check()) if check is not None else None
    if bus_problem:
        problems["bus"] = bus_problem
    body["bus"] = type(bus).__name__
    wh = await bounded("warehouse", asyncio.to_thread(_warehouse, app))
    if wh is not None:
        if wh[0]:
            problems["warehouse"] = wh[0]
        body["warehouse"] = wh[1]
    if problems:
        message = "; ".join(problems.values())
        return False, {"error": "not_ready", "message": message, "detail": problems}
    return True, {"status": "ready", **body}


def install_outage_handlers(app: FastAPI) -> None:
    """Map a lost or refused database connection to ``503 not_ready`` (the pool replaces the broken
    connections, so the next request after the outage succeeds)."""

    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("operations database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            {"error": "not_ready", "message": "operations database unavailable; retry shortly",
             "detail": {"reason": type(exc).__name__}},
            status_code=503, headers={"Retry-After": "2"})

    for cls in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError):
        app.add_exception_handler(cls, _unavailable)
