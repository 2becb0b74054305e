"""Supervision (督): the audit log and its chain status."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from precinct.core import audit
from precinct.core.access import AccessGrant, allow, get_db, personal_data
from precinct.core.identity import Principal
from precinct.oversight.service import list_records

router = APIRouter(tags=["oversight"])


@router.get("/audit/records")
def audit_records(
    grant: Annotated[AccessGrant, personal_data("audit.records")],
    actor: str | None = None, action: str | None = None, case_id: str | None = None,
    outcome: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Audit records, newest first, filtered. Reading the log is itself audited."""
    with grant.db.sessionmaker() as s:
        rows = list_records(s, actor=actor, action=action, case_id=case_id, outcome=outcome,
                            since=since, until=until, before_seq=before_seq, limit=limit)
    grant.record(result_count=len(rows), params={"actor": actor, "action": action, "case_id": case_id,
                                                 "outcome": outcome, "limit": limit})
    return {"records": rows}


@router.get("/audit/verify")
def audit_verify(request: Request,
                 principal: Annotated[Principal, allow("audit.verify")]) -> dict[str, Any]:
    """Walk the whole hash chain and report whether it is intact."""
    result = audit.verify(get_db(request).read_engine)
    return {"ok": result.ok, "checked": result.checked, "first_bad_seq": result.first_bad_seq,
            "reason": result.reason}


def setup(app: Any) -> None:
    """Audit checkpoints and retention runs in the background (one worker does each)."""
    from precinct.oversight.jobs import setup_jobs

    setup_jobs(app)
