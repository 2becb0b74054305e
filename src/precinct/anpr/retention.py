"""Retention of plate/tag reads and person–vehicle links (run by ``precinct retention run``).

Reads older than ``anpr_retention_days`` are erased, except reads tied to a hotlist hit (an
alert) or pinned to a case. Each erasure is audited (AuditAction.erasure) inside the erasure's
transaction: if the audit record cannot be written, nothing is erased.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from precinct.anpr import service, store
from precinct.config import Settings
from precinct.core import audit
from precinct.core.db import Database
from precinct.core.roles import AuditAction


def run(*, db: Database, settings: Settings, now: dt.datetime, actor: str) -> list[dict[str, Any]]:
    wh = service.warehouse(settings)
    cutoff = now - dt.timedelta(days=settings.anpr_retention_days)
    keep = service.protected_rids(db)

    def _audit_reads(erased: int, kept: int) -> None:
        with db.session() as s:
            audit.append(
                s,
                actor=actor,
                role="system",
                action=AuditAction.erasure,
                resource="anpr.reads",
                params={
                    "cutoff": cutoff.isoformat(),
                    "kept": kept,
                    "retention_days": settings.anpr_retention_days,
                },
                result_count=erased,
            )

    erased, kept = store.erase_older_than(
        wh, cutoff=cutoff, keep_rids=keep, before_commit=_audit_reads
    )
    cut_us = int(cutoff.timestamp() * 1_000_000)
    with wh.transaction() as cur:
        row = cur.execute("DELETE FROM anpr_links WHERE ts_us < ?", [cut_us]).fetchone()
        links = int(row[0]) if row else 0
        with db.session() as s:
            audit.append(
                s,
                actor=actor,
                role="system",
                action=AuditAction.erasure,
                resource="anpr.links",
                params={"cutoff": cutoff.isoformat()},
                result_count=links,
            )
    return [
        {"resource": "anpr.reads", "erased": erased, "kept": kept, "cutoff": cutoff.isoformat()},
        {"resource": "anpr.links", "erased": links, "kept": 0, "cutoff": cutoff.isoformat()},
    ]
