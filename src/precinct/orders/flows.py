"""Background flow of orders: escalate to the supervisor when a deadline passes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from precinct.calls.common import publish
from precinct.core.db import Database
from precinct.orders.service import escalate_overdue, order_view

log = logging.getLogger("precinct.command")
CHECK_EVERY_S = 10.0


def run_escalation(db: Database) -> list[dict[str, Any]]:
    """One pass: escalate overdue orders; returns their views (committed)."""
    with db.session() as s:
        return [order_view(s, o) for o in escalate_overdue(s)]


async def escalation_loop(db: Database, bus: Any, every_s: float = CHECK_EVERY_S) -> None:
    while True:
        await asyncio.sleep(every_s)
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
