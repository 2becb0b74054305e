"""Pins follow the case: plate reads pinned to a case are released to normal retention when the
case closes (audited, listing the read ids), and the cases domain's completeness check can ask how
many reads a case still keeps. Registered with :mod:`precinct.core.access` when ``anpr`` is imported
(no import of the cases domain: the two are independent analysis domains)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from precinct.anpr.models import CaseRead
from precinct.core import access, audit
from precinct.core.roles import AuditAction


def release_case_pins(session: Session, case_id: str, actor: str) -> None:
    """Unpin every read of ``case_id`` (in the closing transaction) and audit the release."""
    rids = sorted(session.scalars(select(CaseRead.rid).where(CaseRead.case_id == case_id)))
    if not rids:
        return
    session.execute(delete(CaseRead).where(CaseRead.case_id == case_id))
    audit.append(session, actor=actor, role="system", action=AuditAction.alteration, resource="anpr.case_reads",
                 params={"op": "release", "reason": "case closed", "rids": rids}, case_id=case_id,
                 result_count=len(rids))


def pinned_reads(session: Session, case_id: str) -> int:
    """How many reads are pinned to ``case_id``."""
    return int(session.scalar(select(func.count()).select_from(CaseRead).where(CaseRead.case_id == case_id)) or 0)


def register() -> None:
    access.on_case_closed(release_case_pins)
    access.register_case_holdings("pinned reads", pinned_reads)
