"""The cases API (``/api/v1/cases``): registry, workspace, tasks and supervision. Thin: the service
does the work; a refusal by the service (not the lead, not on the case) is audited here."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request

from precinct.cases import attachments_views, service, supervision
from precinct.cases.codes import SUPERVISORS
from precinct.cases.schemas import (
    CaseIn,
    CloseIn,
    DeadlineIn,
    LinkIn,
    MemberIn,
    NoteIn,
    OrderIn,
    SceneIn,
    StageIn,
    TaskIn,
    TaskUpdate,
    TeamIn,
)
from precinct.core.access import AccessGrant, allow, get_db, personal_data, refuse
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.timeutil import utcnow
from precinct.errors import Forbidden

router = APIRouter(tags=["cases"])
router.include_router(attachments_views.router)  # a case's notes and photos (issue 19)
T = TypeVar("T")


@contextmanager
def _audited(db: Database, principal: Principal, resource: str, case_id: str | None) -> Iterator[None]:
    """Turn the service's Forbidden into an audited refusal (after its transaction rolled back)."""
    try:
        yield
    except Forbidden as exc:
        raise refuse(db, actor=principal.username, role=principal.role.value, resource=resource,
                     reason=exc.message, case_id=case_id[:128] if case_id else None) from None


def _write(request: Request, principal: Principal, audit_case: str | None, fn: Callable[..., T], /,
           **kw: Any) -> T:
    db = get_db(request)
    with _audited(db, principal, "cases", audit_case), db.session() as s:
        return fn(s, **kw)


@router.post("/cases", status_code=201)
def open_case(body: CaseIn, request: Request,
              principal: Annotated[Principal, allow("cases.open")]) -> dict[str, Any]:
    """Open a case (立案); the caller leads it unless ``lead`` names someone else. Returns the case."""
    return _write(request, principal, None, service.open_case, title=body.title, type=body.type,
                  lead=body.lead or principal.username, members=body.members, teams=body.teams, ref=body.ref,
                  summary=body.summary, by=principal.username)


@router.get("/cases")
def list_cases(
    request: Request, principal: Annotated[Principal, allow("cases.read")],
    mine: bool = False, status: str | None = None, type: str | None = None, team: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Cases newest first: the caller's own (supervisors and auditors see all unless ``mine``)."""
    only = principal.username if mine or principal.role not in SUPERVISORS else None
    with get_db(request).sessionmaker() as s:
        return {"cases": service.list_cases(s, username=only, status=status, type=type, team=team, limit=limit)}


@router.get("/cases/codes")
def codes(principal: Annotated[Principal, allow("cases.read")]) -> dict[str, Any]:
    """The code tables: case types, teams (警种), dispositions, stages, task statuses."""
    return service.code_tables()


@router.get("/cases/deadlines")
def get_deadlines(request: Request, principal: Annotated[Principal, allow("cases.read")]) -> dict[str, Any]:
    """Handling deadlines (days) per case type and stage."""
    with get_db(request).sessionmaker() as s:
        return {"deadlines": supervision.deadlines(s)}


@router.put("/cases/deadlines")
def put_deadline(body: DeadlineIn, request: Request,
                 principal: Annotated[Principal, allow("cases.deadlines")]) -> dict[str, Any]:
    """Configure the deadline of one stage for one case type."""
    return _write(request, principal, None, supervision.set_deadline, type=body.type, stage=body.stage,
                  days=body.days, by=principal.username, role=principal.role.value)


@router.get("/cases/supervision")
def supervision_report(request: Request,
                       principal: Annotated[Principal, allow("cases.supervise")]) -> dict[str, Any]:
    """The supervision screen (执法办案监督): overdue cases and tasks, completeness, per-team statistics."""
    with get_db(request).sessionmaker() as s:
        return supervision.report(s)


@router.get("/cases/timeline")
def case_timeline(request: Request, grant: Annotated[AccessGrant, personal_data("cases.timeline")],
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict[str, Any]:
    """The workspace of the case in X-Case-Id: its timeline (queries from the audit log, notes, links,
    pins, tasks). A personal-data read: the queries' parameters name plates and people."""
    with grant.db.sessionmaker() as s:
        out = service.timeline(s, case_id=grant.case_id, limit=limit)
    grant.record(result_count=len(out["events"]), params={"limit": limit})
    return out


@router.get("/cases/{case_id}")
def show_case(case_id: str, request: Request,
              principal: Annotated[Principal, allow("cases.read")]) -> dict[str, Any]:
    """One case (its members, supervisors and auditors)."""
    db = get_db(request)
    with _audited(db, principal, "cases", case_id), db.sessionmaker() as s:
        service.require_reader(s, case_id=case_id, username=principal.username)
        return service.get_case(s, case_id)


@router.post("/cases/{case_id}/close")
def close_case(case_id: str, body: CloseIn, request: Request,
               principal: Annotated[Principal, allow("cases.manage")]) -> dict[str, Any]:
    """Close the case (lead or supervisor): access under it ends now; its pinned reads are released."""
    return _write(request, principal, case_id, service.close_case, case_id=case_id, by=principal.username,
                  reason=body.reason, disposition=body.disposition)


@router.post("/cases/{case_id}/members")
def add_member(case_id: str, body: MemberIn, request: Request,
               principal: Annotated[Principal, allow("cases.manage")]) -> dict[str, Any]:
    """Add a member (lead or supervisor)."""
    return _write(request, principal, case_id, service.add_member, case_id=case_id, username=body.username,
                  by=principal.username)


@router.delete("/cases/{case_id}/members/{username}")
def remove_member(case_id: str, username: str, request: Request,
                  principal: Annotated[Principal, allow("cases.manage")]) -> dict[str, Any]:
    """Take a member off the case (lead or supervisor); their access ends at once."""
    return _write(request, principal, case_id, service.remove_member, case_id=case_id, username=username,
                  by=principal.username)


@router.post("/cases/{case_id}/stage")
def set_stage(case_id: str, body: StageIn, request: Request,
              principal: Annotated[Principal, allow("cases.manage")]) -> dict[str, Any]:
    """Move the case to a stage (立案 registered, 侦查 investigating, 审结 concluding)."""
    return _write(request, principal, case_id, service.set_stage, case_id=case_id, stage=body.stage,
                  by=principal.username)


@router.post("/cases/{case_id}/teams")
def add_team(case_id: str, body: TeamIn, request: Request,
             principal: Annotated[Principal, allow("cases.work")]) -> dict[str, Any]:
    """Put a team (警种) on the case."""
    return _write(request, principal, case_id, service.add_team, case_id=case_id, team=body.team,
                  by=principal.username)


@router.post("/cases/{case_id}/links")
def add_link(case_id: str, body: LinkIn, request: Request,
             principal: Annotated[Principal, allow("cases.work")]) -> dict[str, Any]:
    """Link an incident, call or order to the case."""
    return _write(request, principal, case_id, service.link, case_id=case_id, kind=body.kind, ref_id=body.id,
                  by=principal.username)


@router.post("/cases/{case_id}/scenes")
def add_scene(case_id: str, body: SceneIn, request: Request,
              principal: Annotated[Principal, allow("cases.work")]) -> dict[str, Any]:
    """Add a scene: a place and a time window."""
    return _write(request, principal, case_id, service.add_scene, case_id=case_id, lat=body.lat, lon=body.lon,
                  start=body.start, end=body.end, radius_km=body.radius_km, label=body.label,
                  by=principal.username)


@router.post("/cases/{case_id}/notes", status_code=201)
def add_note(case_id: str, body: NoteIn, request: Request,
             principal: Annotated[Principal, allow("cases.work")]) -> dict[str, Any]:
    """Add a note to the case's timeline."""
    return _write(request, principal, case_id, service.add_note, case_id=case_id, text=body.text,
                  by=principal.username)


@router.get("/cases/{case_id}/tasks")
def list_tasks(case_id: str, request: Request,
               principal: Annotated[Principal, allow("cases.read")]) -> dict[str, Any]:
    """The case's tasks and requests for service."""
    db = get_db(request)
    with _audited(db, principal, "cases", case_id), db.sessionmaker() as s:
        service.require_reader(s, case_id=case_id, username=principal.username)
        return {"tasks": service.list_tasks(s, case_id=case_id)}


@router.post("/cases/{case_id}/tasks", status_code=201)
def create_task(case_id: str, body: TaskIn, request: Request,
                principal: Annotated[Principal, allow("cases.work")]) -> dict[str, Any]:
    """Request a service of a team or a user (请求服务), with a deadline."""
    return _write(request, principal, case_id, service.create_task, case_id=case_id, title=body.title,
                  team=body.team, assignee=body.assignee, deadline=body.deadline, detail=body.detail,
                  by=principal.username)


@router.patch("/cases/{case_id}/tasks/{task_id}")
def update_task(case_id: str, task_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: TaskUpdate, request: Request,
                principal: Annotated[Principal, allow("cases.work")]) -> dict[str, Any]:
    """Accept, complete (with a result) or decline a task; or move its deadline."""
    return _write(request, principal, case_id, service.update_task, case_id=case_id, task_id=task_id,
                  status=body.status, result=body.result, deadline=body.deadline, by=principal.username)


@router.post("/cases/{case_id}/orders", status_code=201)
def issue_order(case_id: str, body: OrderIn, request: Request,
                principal: Annotated[Principal, allow("cases.orders")]) -> dict[str, Any]:
    """One-click order from the case (一键下达) to many recipients; linked to the case and on its timeline."""
    deadline = body.deadline or utcnow() + dt.timedelta(minutes=body.deadline_minutes or 30)
    view = _write(request, principal, case_id, service.issue_order, case_id=case_id, title=body.title,
                  body=body.body or body.title, recipients=body.recipients, deadline=deadline,
                  by=principal.username, priority=body.priority)
    bus = getattr(request.app.state, "bus", None)
    if bus is not None:  # the live board shows it like any order (never fails the committed request)
        with contextlib.suppress(Exception):
            bus.publish("orders.created", {"subject": "orders.created", "sent_at": time.time(),
                                           "order_id": view["id"], "order": view})
    return view
