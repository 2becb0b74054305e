"""Shared pieces of the cases domain's services: validation, the acting user's rights on a case,
membership and team rows, audit records, and the case view."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.cases import supervision
from precinct.cases.codes import CASE_TYPES, LINK_KINDS, OPEN, SUPERVISORS
from precinct.cases.models import Case, CaseLink, CaseMember, CaseScene, CaseTeam
from precinct.core import audit
from precinct.core.models import User
from precinct.core.roles import AuditAction, Role
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput, Conflict, Forbidden, NotFound

MANAGERS = frozenset({Role.supervisor})
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]+$")
MAX_MEMBERS = 200
LINK_TABLES = {"incident": "incidents", "call": "calls", "order": "orders"}


# --- helpers ---------------------------------------------------------------------------------------

def _text(value: str | None, field: str, *, max_len: int, required: bool = True) -> str:
    v = (value or "").strip()
    if required and not v:
        raise BadInput(f"{field} must not be empty", detail={"field": field})
    if len(v) > max_len:
        raise BadInput(f"{field} is longer than {max_len} characters", detail={"field": field})
    if v and not _PRINTABLE.match(v.replace("\n", " ").replace("\t", " ")):
        raise BadInput(f"{field} contains control characters", detail={"field": field})
    return v


def _role_of(session: Session, username: str, field: str = "by") -> Role:
    row = session.execute(select(User.role, User.active).where(User.username == username)).first()
    if row is None or not row.active:
        raise BadInput(f"{field}: no active Precinct user {username!r}", detail={"field": field, "value": username})
    return Role(row.role)


def _existing_users(session: Session, names: Iterable[str], field: str) -> list[str]:
    wanted = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if len(wanted) > MAX_MEMBERS:
        raise BadInput(f"{field}: at most {MAX_MEMBERS} users", detail={"field": field})
    if not wanted:
        return []
    found = set(session.scalars(select(User.username).where(User.username.in_(wanted), User.active.is_(True))))
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise BadInput(f"{field}: no active Precinct user {unknown[0]!r}",
                       detail={"field": field, "value": unknown[0], "unknown": unknown})
    return wanted


def _case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id) if case_id else None
    if case is None:
        raise NotFound(f"no case {case_id!r}", detail={"field": "case_id", "value": case_id})
    return case


def _open_case_row(session: Session, case_id: str, what: str) -> Case:
    case = _case(session, case_id)
    if case.status != OPEN:
        raise Conflict(f"case {case_id} is closed: cannot {what}", detail={"field": "case_id", "status": case.status})
    return case


def _members(session: Session, case_id: str) -> list[str]:
    return list(session.scalars(select(CaseMember.username).where(CaseMember.case_id == case_id)
                                .order_by(CaseMember.added_at, CaseMember.username)))


def _is_member(session: Session, case: Case, username: str) -> bool:
    if username == case.lead:
        return True
    return session.get(CaseMember, (case.id, username)) is not None


def _require_manager(session: Session, case: Case, by: str) -> Role:
    role = _role_of(session, by)
    if by != case.lead and role not in MANAGERS:
        raise Forbidden(f"only the case's lead ({case.lead}) or a supervisor may do this on case {case.id}",
                        detail={"field": "by", "case_id": case.id})
    return role


def _require_worker(session: Session, case: Case, by: str) -> Role:
    role = _role_of(session, by)
    if role not in MANAGERS and not _is_member(session, case, by):
        raise Forbidden(f"{by} is not on case {case.id}", detail={"field": "by", "case_id": case.id})
    return role


def require_reader(session: Session, *, case_id: str, username: str) -> Role:
    """Check that ``username`` may see the case's summary: on it, or a supervisor or auditor.

    Raises NotFound for no such case and Forbidden otherwise.
    """
    case = _case(session, case_id)
    role = _role_of(session, username)
    if role not in SUPERVISORS and not _is_member(session, case, username):
        raise Forbidden(f"{username} is not on case {case_id}", detail={"field": "case_id", "case_id": case_id})
    return role


def _audit(session: Session, *, by: str, role: Role | str, case_id: str, op: str,
           action: AuditAction = AuditAction.alteration, **params: Any) -> None:
    audit.append(session, actor=by, role=str(role), action=action, resource="cases",
                 params={"op": op, **params}, case_id=case_id)


def _add_members(session: Session, case_id: str, names: Iterable[str], by: str) -> list[str]:
    now = utcnow()
    added = []
    for name in names:
        if session.get(CaseMember, (case_id, name)) is None:
            session.add(CaseMember(case_id=case_id, username=name, added_by=by, added_at=now))
            added.append(name)
    session.flush()
    return added


def _add_teams(session: Session, case_id: str, teams: Iterable[str]) -> list[str]:
    added = []
    for team in teams:
        if session.get(CaseTeam, (case_id, team)) is None:
            session.add(CaseTeam(case_id=case_id, team=team))
            added.append(team)
    session.flush()
    return added


def _new_id(session: Session, now: dt.datetime) -> str:
    prefix = f"C{now:%Y%m%d}-"
    n = session.scalar(select(func.count()).select_from(Case).where(Case.id.like(f"{prefix}%"))) or 0
    return f"{prefix}{int(n) + 1:04d}"


def case_view(session: Session, case: Case, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The case as the API and the CLI show it."""
    links: dict[str, list[str]] = {k: [] for k in LINK_KINDS}
    for kind, ref in session.execute(select(CaseLink.kind, CaseLink.ref_id).where(CaseLink.case_id == case.id)
                                     .order_by(CaseLink.id)):
        links.setdefault(kind, []).append(ref)
    scenes = [
        {"id": s.id, "label": s.label, "lat": s.lat, "lon": s.lon, "radius_km": s.radius_km,
         "start": to_iso(s.start), "end": to_iso(s.end)}
        for s in session.scalars(select(CaseScene).where(CaseScene.case_id == case.id).order_by(CaseScene.id))
    ]
    deadline = supervision.stage_deadline(session, case)
    now = now or utcnow()
    return {
        "id": case.id, "ref": case.ref, "title": case.title, "type": case.type,
        "type_zh": CASE_TYPES.get(case.type, (case.type, case.type))[0], "status": case.status,
        "stage": case.stage, "stage_since": to_iso(case.stage_since), "stage_deadline": to_iso(deadline),
        "overdue": case.status == OPEN and deadline is not None and deadline < now,
        "lead": case.lead, "members": _members(session, case.id),
        "teams": sorted(session.scalars(select(CaseTeam.team).where(CaseTeam.case_id == case.id))),
        "scenes": scenes, "incidents": links["incident"], "calls": links["call"], "orders": links["order"],
        "summary": case.summary, "origin": case.origin,
        "created_by": case.created_by, "created_at": to_iso(case.created_at),
        "closed_at": to_iso(case.closed_at), "closed_by": case.closed_by, "close_reason": case.close_reason,
        "disposition": case.disposition,
    }


