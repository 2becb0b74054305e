"""The case registry and workspace (合成作战): open, show, list, close, members, teams, scenes,
links, notes, tasks and the timeline. The public face of the ``cases`` domain.

Every function takes a SQLAlchemy ``Session`` (the caller's unit of work) and keyword arguments;
every change is audited in the same transaction (resource ``cases``, with the case id). ``by`` is
the acting Precinct user: the lead or a supervisor manages a case (close, members, stage); its lead
and members (and supervisors) work on it (links, scenes, notes, tasks).

Other domains call :func:`open_case`, :func:`get_case`, :func:`close_case`, :func:`add_member`,
:func:`link_incident` and :func:`is_open`; data they keep for a case is released when it closes
through :func:`precinct.core.access.on_case_closed`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from precinct.cases.base import (
    _PRINTABLE,
    _add_members,
    _add_teams,
    _audit,
    _case,
    _existing_users,
    _new_id,
    _open_case_row,
    _require_manager,
    _require_worker,
    _role_of,
    _text,
    case_view,
    require_reader,
)
from precinct.cases.codes import (
    CASE_TYPES,
    CLOSED,
    DISPOSITIONS,
    LINK_KINDS,
    OPEN,
    REVIEW_OPENERS,
    REVIEW_TYPE,
    STAGES,
    TEAMS,
    code_tables,
    resolve_code,
)
from precinct.cases.models import Case, CaseLink, CaseMember, CaseScene, CaseTeam
from precinct.cases.workspace import (
    add_note,
    create_task,
    issue_order,
    list_tasks,
    task_view,
    timeline,
    update_task,
)
from precinct.command import service as command  # owns incidents, calls and orders
from precinct.core import access
from precinct.core.roles import AuditAction, Role
from precinct.core.timeutil import utcnow
from precinct.errors import BadInput, Conflict, NotFound

__all__ = [
    "add_member",
    "add_note",
    "add_scene",
    "add_team",
    "case_ids_for",
    "case_view",
    "close_case",
    "code_tables",
    "create_task",
    "ensure_demo_cases",
    "get_case",
    "import_case",
    "is_open",
    "issue_order",
    "link",
    "link_incident",
    "list_cases",
    "list_tasks",
    "open_case",
    "remove_member",
    "require_reader",
    "set_stage",
    "task_view",
    "timeline",
    "update_task",
]


def get_case(session: Session, case_id: str) -> dict[str, Any]:
    """The case ``case_id`` (NotFound if there is none)."""
    return case_view(session, _case(session, case_id))


def is_open(session: Session, case_id: str) -> bool:
    """True when ``case_id`` names an open case."""
    return session.scalar(select(Case.status).where(Case.id == case_id)) == OPEN


def case_ids_for(session: Session, username: str, *, status: str | None = OPEN) -> list[str]:
    """Ids of the cases ``username`` leads or is a member of (open ones by default), newest first."""
    q = (select(Case.id).outerjoin(CaseMember, CaseMember.case_id == Case.id)
         .where(or_(Case.lead == username, CaseMember.username == username)).distinct()
         .order_by(Case.id.desc()))
    if status:
        q = q.where(Case.status == status)
    return list(session.scalars(q))


def list_cases(session: Session, *, username: str | None = None, status: str | None = None,
               type: str | None = None, team: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Cases, newest first; ``username`` keeps those the user leads or is on."""
    if status is not None and status not in (OPEN, CLOSED):
        raise BadInput("status must be open or closed", detail={"field": "status", "value": status})
    q = select(Case).order_by(Case.created_at.desc(), Case.id.desc()).limit(max(1, min(limit, 1000)))
    if username is not None:
        q = q.where(Case.id.in_(select(CaseMember.case_id).where(CaseMember.username == username))
                    | (Case.lead == username))
    if status:
        q = q.where(Case.status == status)
    if type:
        q = q.where(Case.type == resolve_code(type, CASE_TYPES, "type"))
    if team:
        q = q.where(Case.id.in_(select(CaseTeam.case_id).where(CaseTeam.team == resolve_code(team, TEAMS, "team"))))
    now = utcnow()
    return [case_view(session, c, now=now) for c in session.scalars(q)]


# --- registry ---------------------------------------------------------------------------------------

def open_case(session: Session, *, title: str, type: str, lead: str, members: Sequence[str] = (),
              teams: Sequence[str] = (), ref: str | None = None, summary: str = "",
              by: str | None = None) -> dict[str, Any]:
    """Open a case; returns its view (with the ``id`` Precinct issued).

    Parameters
    ----------
    session
        The unit of work (the case and its audit record commit together).
    title, type
        What the case is; ``type`` is a code of :data:`precinct.cases.codes.CASE_TYPES` (or its Chinese name).
    lead
        The user leading it (a member by definition).
    members, teams
        Further users, and team codes (警种) of :data:`precinct.cases.codes.TEAMS`.
    ref
        The case number in the force's own case system, if any.
    by
        Who opens it (defaults to ``lead``).

    Raises
    ------
    BadInput
        Naming the field: an empty title, an unknown type, team, lead or member.
    """
    title = _text(title, "title", max_len=200)
    case_type = resolve_code(type, CASE_TYPES, "type")
    ref = _text(ref, "ref", max_len=128, required=False) or None
    summary = _text(summary, "summary", max_len=10_000, required=False)
    lead_role = _role_of(session, lead, "lead")
    opener = by or lead
    opener_role = lead_role if opener == lead else _role_of(session, opener, "by")
    if case_type == REVIEW_TYPE and opener_role not in REVIEW_OPENERS:
        raise BadInput("type: only an auditor or a supervisor opens a review case",
                       detail={"field": "type", "value": case_type})
    if opener_role is Role.auditor and case_type != REVIEW_TYPE:
        raise BadInput("type: an auditor opens review cases only", detail={"field": "type", "value": case_type})
    member_names = [m for m in _existing_users(session, members, "members") if m != lead]
    team_codes = list(dict.fromkeys(resolve_code(t, TEAMS, "teams") for t in teams))
    now = utcnow()
    for _attempt in range(5):
        case_id = _new_id(session, now)
        try:
            with session.begin_nested():
                session.add(Case(id=case_id, ref=ref, title=title, type=case_type, status=OPEN, stage="registered",
                                 stage_since=now, lead=lead, summary=summary, origin="opened", created_by=opener,
                                 created_at=now))
                session.flush()
            break
        except IntegrityError:  # another writer took the number; take the next
            continue
    else:  # pragma: no cover - five concurrent openers in one day-prefix instant
        raise Conflict("could not issue a case id; try again", detail={"field": "id"})
    _add_members(session, case_id, [lead, *member_names], opener)
    _add_teams(session, case_id, team_codes)
    _audit(session, by=opener, role=opener_role, case_id=case_id, op="open", action=AuditAction.collection,
           type=case_type, lead=lead, members=member_names, teams=team_codes, ref=ref)
    return get_case(session, case_id)


def import_case(session: Session, *, case_id: str, title: str, type: str, lead: str,
                members: Sequence[str] = (), by: str = "system", origin: str = "imported") -> dict[str, Any]:
    """Register a case under an id given from outside (cases brought over from free-text case ids).

    Idempotent: an existing case keeps its fields and gains the members. Audited.
    """
    if not case_id or len(case_id) > 128 or not _PRINTABLE.match(case_id):
        raise BadInput("case_id must be 1-128 printable characters", detail={"field": "case_id"})
    case = session.get(Case, case_id)
    if case is None:
        case_type = resolve_code(type, CASE_TYPES, "type")
        now = utcnow()
        session.add(Case(id=case_id, ref=None, title=_text(title, "title", max_len=200), type=case_type, status=OPEN,
                         stage="registered", stage_since=now, lead=lead, summary="", origin=origin,
                         created_by=by, created_at=now))
        session.flush()
        _audit(session, by=by, role="system", case_id=case_id, op="import", action=AuditAction.collection,
               type=case_type, lead=lead, origin=origin)
    added = _add_members(session, case_id, dict.fromkeys([lead, *members]), by)
    if added and case is not None:
        _audit(session, by=by, role="system", case_id=case_id, op="add_members", members=added)
    return get_case(session, case_id)


def close_case(session: Session, *, case_id: str, by: str, reason: str,
               disposition: str | None = None) -> dict[str, Any]:
    """Close a case: its members' access to personal data ends at once; data kept for it is released.

    The close hooks (:func:`precinct.core.access.case_closed`) run in this transaction, so a pin that
    cannot be released keeps the case open. Raises Conflict for a closed case (field ``case_id``),
    BadInput for an empty reason or unknown disposition, Forbidden unless ``by`` leads the case or is a
    supervisor.
    """
    case = _open_case_row(session, case_id, "close it again")
    role = _require_manager(session, case, by)
    reason = _text(reason, "reason", max_len=2000)
    code = resolve_code(disposition, DISPOSITIONS, "disposition") if disposition else None
    now = utcnow()
    case.status, case.closed_at, case.closed_by = CLOSED, now, by
    case.close_reason, case.disposition = reason, code
    session.flush()
    _audit(session, by=by, role=role, case_id=case_id, op="close", reason=reason, disposition=code)
    access.case_closed(session, case_id=case_id, actor=by)
    return get_case(session, case_id)


def add_member(session: Session, *, case_id: str, username: str, by: str) -> dict[str, Any]:
    """Add ``username`` to an open case (lead or supervisor). Idempotent; audited."""
    case = _open_case_row(session, case_id, "add a member")
    role = _require_manager(session, case, by)
    name = _existing_users(session, [username], "username")
    if not name:
        raise BadInput("username must not be empty", detail={"field": "username"})
    if _add_members(session, case_id, name, by):
        _audit(session, by=by, role=role, case_id=case_id, op="add_member", username=name[0])
    return get_case(session, case_id)


def remove_member(session: Session, *, case_id: str, username: str, by: str) -> dict[str, Any]:
    """Take ``username`` off a case (not its lead): their access ends at their next request."""
    case = _case(session, case_id)
    role = _require_manager(session, case, by)
    if username == case.lead:
        raise Conflict("the lead cannot be removed; hand the case over first", detail={"field": "username"})
    member = session.get(CaseMember, (case_id, username))
    if member is None:
        raise NotFound(f"{username!r} is not on case {case_id}", detail={"field": "username", "value": username})
    session.delete(member)
    session.flush()
    _audit(session, by=by, role=role, case_id=case_id, op="remove_member", username=username)
    return get_case(session, case_id)


def add_team(session: Session, *, case_id: str, team: str, by: str) -> dict[str, Any]:
    """Put a team (警种) on an open case."""
    case = _open_case_row(session, case_id, "add a team")
    role = _require_worker(session, case, by)
    code = resolve_code(team, TEAMS, "team")
    if _add_teams(session, case_id, [code]):
        _audit(session, by=by, role=role, case_id=case_id, op="add_team", team=code)
    return get_case(session, case_id)


def set_stage(session: Session, *, case_id: str, stage: str, by: str) -> dict[str, Any]:
    """Move an open case to ``stage`` (立案 → 侦查 → 审结); the stage's deadline starts now."""
    case = _open_case_row(session, case_id, "change its stage")
    role = _require_manager(session, case, by)
    code = resolve_code(stage, STAGES, "stage")
    if code != case.stage:
        case.stage, case.stage_since = code, utcnow()
        session.flush()
        _audit(session, by=by, role=role, case_id=case_id, op="stage", stage=code)
    return get_case(session, case_id)


def _ref_exists(session: Session, kind: str, ref_id: str) -> bool:
    return command.record_exists(session, kind=kind, record_id=ref_id)


def link(session: Session, *, case_id: str, kind: str, ref_id: str, by: str) -> dict[str, Any]:
    """Link an incident, call or order to an open case (idempotent; the object must exist)."""
    if kind not in LINK_KINDS:
        raise BadInput(f"kind must be one of {', '.join(LINK_KINDS)}", detail={"field": "kind", "value": kind})
    ref_id = _text(ref_id, f"{kind}_id", max_len=64)
    case = _open_case_row(session, case_id, f"link a {kind}")
    role = _require_worker(session, case, by)
    if not _ref_exists(session, kind, ref_id):
        raise BadInput(f"{kind}_id: no {kind} {ref_id!r}", detail={"field": f"{kind}_id", "value": ref_id})
    exists = session.scalar(select(CaseLink.id).where(CaseLink.case_id == case_id, CaseLink.kind == kind,
                                                      CaseLink.ref_id == ref_id))
    if exists is None:
        session.add(CaseLink(case_id=case_id, kind=kind, ref_id=ref_id, linked_by=by, linked_at=utcnow()))
        session.flush()
        _audit(session, by=by, role=role, case_id=case_id, op="link", kind=kind, ref_id=ref_id)
    return get_case(session, case_id)


def link_incident(session: Session, *, case_id: str, incident_id: str, by: str) -> dict[str, Any]:
    """Link incident ``incident_id`` to the case (see :func:`link`)."""
    return link(session, case_id=case_id, kind="incident", ref_id=incident_id, by=by)


def add_scene(session: Session, *, case_id: str, lat: float, lon: float, start: dt.datetime, end: dt.datetime,
              by: str, radius_km: float = 1.0, label: str = "") -> dict[str, Any]:
    """Add a scene (place and time window) to an open case."""
    case = _open_case_row(session, case_id, "add a scene")
    role = _require_worker(session, case, by)
    if not (-90 <= lat <= 90):
        raise BadInput("lat must be within -90..90", detail={"field": "lat", "value": lat})
    if not (-180 <= lon <= 180):
        raise BadInput("lon must be within -180..180", detail={"field": "lon", "value": lon})
    if not (0 < radius_km <= 100):
        raise BadInput("radius_km must be within 0..100", detail={"field": "radius_km", "value": radius_km})
    if start.tzinfo is None or end.tzinfo is None:
        raise BadInput("start and end need a timezone offset", detail={"field": "start"})
    if end <= start:
        raise BadInput("end must be after start", detail={"field": "end"})
    scene = CaseScene(case_id=case_id, label=_text(label, "label", max_len=200, required=False), lat=lat, lon=lon,
                      radius_km=radius_km, start=start, end=end, added_by=by, added_at=utcnow())
    session.add(scene)
    session.flush()
    _audit(session, by=by, role=role, case_id=case_id, op="scene", scene=scene.id)
    return get_case(session, case_id)


DEMO_CASES = (  # (ref, title, type, lead role, member roles, teams)
    ("DEMO-1", "演示：电缆被盗系列案 demo: cable theft series", "theft", "analyst",
     ("supervisor", "dispatcher"), ("criminal", "video", "intelligence")),
    ("DEMO-MP-1", "演示：失踪老人 demo: missing elderly person", "missing_person", "supervisor",
     ("analyst", "dispatcher", "patrol"), ("station", "patrol", "video")),
    ("DEMO-REVIEW-1", "演示：查询审计抽查 demo: query audit sample", "review", "auditor",
     ("supervisor",), ("oversight",)),
)


def ensure_demo_cases(session: Session, *, users: dict[str, str]) -> list[str]:
    """Open the demo's cases once (by reference) so the analyst screens work out of the box.

    ``users`` maps a role name to the demo login of that role. Returns the case ids.
    """
    ids = []
    for ref, title, ctype, lead, members, teams in DEMO_CASES:
        found = session.scalar(select(Case.id).where(Case.ref == ref))
        if found is None and lead in users:
            found = open_case(session, title=title, type=ctype, lead=users[lead], ref=ref, teams=teams,
                              members=[users[m] for m in members if m in users])["id"]
        if found is not None:
            ids.append(found)
    return ids
