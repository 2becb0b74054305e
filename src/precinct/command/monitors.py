"""Background checks of the command domain, started by every API worker; only the leader worker
(:mod:`precinct.core.jobs`) runs them, and the row locks below keep each flag single even if two
workers briefly both believe they lead.

- incidents that pass their colour's dispatch/arrival target are flagged once (``incidents.overdue``);
- orders whose deadline passes unacknowledged or unhandled are escalated once (``orders.escalated``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.command.common import publish
from precinct.command.incidents import OPEN_STATUSES, incident_view, record_event, timers
from precinct.command.models import Incident, IncidentEvent
from precinct.command.orders import escalate_overdue, order_view
from precinct.core.db import Database, utcnow
from precinct.core.jobs import is_leader

log = logging.getLogger("precinct.command")
CHECK_EVERY_S = 10.0


def flag_overdue(session: Session, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Record an ``overdue_dispatch`` / ``overdue_arrival`` event once per incident and stage.

    Returns the board views of the incidents newly flagged (the caller publishes them).
    """
    now = now or utcnow()
    flagged = []
    rows = session.scalars(select(Incident).where(Incident.status.in_(OPEN_STATUSES))).all()
    due = [inc for inc in rows if timers(inc, now)["overdue"]]
    if due:
        # Every API worker runs this check: lock the overdue incidents, skipping those another
        # worker holds (it flags them), so each incident is flagged once (PostgreSQL; SQLite
        # writers are serialised anyway and ignore FOR UPDATE).
        mine = set(
            session.scalars(
                select(Incident.id)
                .where(Incident.id.in_([inc.id for inc in due]))
                .with_for_update(skip_locked=True)
            ).all()
        )
        due = [inc for inc in due if inc.id in mine]
    for inc in due:
        session.refresh(inc)
        t = timers(inc, now)
        if not t["overdue"]:
            continue
        kind = f"overdue_{t['overdue_stage']}"
        seen = session.scalar(
            select(IncidentEvent.id).where(IncidentEvent.incident_id == inc.id, IncidentEvent.kind == kind).limit(1)
        )
        if seen is not None:
            continue
        record_event(
            session,
            inc,
            kind=kind,
            actor="system",
            now=now,
            detail={"age_s": t["age_s"], "target_s": t[f"{t['overdue_stage']}_target_s"]},
        )
        flagged.append(incident_view(inc, now=now))
    return flagged


async def overdue_loop(db: Database, bus: Any, every_s: float = CHECK_EVERY_S) -> None:
    while True:
        await asyncio.sleep(every_s)
        if not await is_leader(db):
            continue
        try:

            def _run() -> list[dict[str, Any]]:
                with db.session() as s:
                    return flag_overdue(s)

            for view in await asyncio.to_thread(_run):
                publish(
                    bus,
                    "incidents.overdue",
                    {"incident_id": view["id"], "incident": view, "notify": "supervisor"},
                )
        except Exception:
            log.exception("overdue check failed")


def run_escalation(db: Database) -> list[dict[str, Any]]:
    """One pass: escalate overdue orders; returns their views (committed)."""
    with db.session() as s:
        return [order_view(s, o) for o in escalate_overdue(s)]


async def escalation_loop(db: Database, bus: Any, every_s: float = CHECK_EVERY_S) -> None:
    while True:
        await asyncio.sleep(every_s)
        if not await is_leader(db):
            continue
        try:
            for view in await asyncio.to_thread(run_escalation, db):
                pending = [r["recipient"] for r in view["recipients"] if r["acknowledged_at"] is None]
                publish(
                    bus,
                    "orders.escalated",
                    {"order_id": view["id"], "order": view, "to": "supervisor", "pending": pending},
                )
        except Exception:
            log.exception("order escalation check failed")


def start_monitors(app: Any) -> list[asyncio.Task[None]]:
    """Start the background checks (cancelled by the app's shutdown hook)."""
    every = float(getattr(app.state, "overdue_check_s", CHECK_EVERY_S))
    task = asyncio.create_task(overdue_loop(app.state.db, app.state.bus, every), name="incidents-overdue")
    return [task]


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for t in tasks:
        t.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await t
