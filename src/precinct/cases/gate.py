"""The case check behind every personal-data read, registered with :mod:`precinct.core.access`.

Importing the ``cases`` package registers it (the app, the CLI and the migrations all import the
domain), so no read passes on a free-text case id. The check reads the case afresh each time:
closing a case or removing a member ends access at the next request.
"""

from __future__ import annotations

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from precinct.cases.codes import CaseFacts, decide
from precinct.cases.models import Case, CaseLink, CaseMember
from precinct.core.access import set_case_checker
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.roles import Purpose


def case_facts(session: Session, case_id: str) -> CaseFacts | None:
    """The facts :func:`precinct.cases.codes.decide` needs (all members), or None for no such case."""
    row = session.execute(select(Case.id, Case.status, Case.type, Case.lead).where(Case.id == case_id)).first()
    if row is None:
        return None
    members = frozenset(session.scalars(select(CaseMember.username).where(CaseMember.case_id == case_id)))
    incidents = session.scalar(select(func.count()).select_from(CaseLink).where(
        CaseLink.case_id == case_id, CaseLink.kind == "incident")) or 0
    return CaseFacts(id=row.id, status=row.status, type=row.type, lead=row.lead, members=members,
                     incidents=int(incidents))


# One statement per check: the case's row, whether the caller is on it, whether an incident is linked.
_CHECK = (
    select(Case.status, Case.type, Case.lead,
           exists().where(CaseMember.case_id == Case.id, CaseMember.username == bindparam("who")).label("member"),
           exists().where(CaseLink.case_id == Case.id, CaseLink.kind == "incident").label("incident"))
    .where(Case.id == bindparam("cid"))
)


def check(db: Database, principal: Principal, case_id: str, purpose: Purpose) -> str | None:
    """The registered checker: None to allow, else the refusal's reason (one indexed query)."""
    with db.statement_reads() as s:
        row = s.execute(_CHECK, {"cid": case_id, "who": principal.username}).first()
    facts = None if row is None else CaseFacts(
        id=case_id, status=row.status, type=row.type, lead=row.lead,
        members=frozenset({principal.username}) if row.member else frozenset(), incidents=int(bool(row.incident)))
    return decide(facts, case_id=case_id, username=principal.username, role=principal.role,
                  purpose=purpose.value)


def register() -> None:
    set_case_checker(check)
