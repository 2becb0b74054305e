"""The case workspace (合成作战): notes, tasks and requests for service between teams, and the
timeline of everything done on a case (queries from the audit log, pins, links, notes, tasks)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.cases.base import (
    _add_members,
    _add_teams,
    _audit,
    _case,
    _existing_users,
    _open_case_row,
    _require_worker,
    _text,
    case_view,
)
from precinct.cases.codes import OPEN, TASK_MOVES, TEAMS, resolve_code
from precinct.cases.models import CaseLink, CaseNote, CaseTask
from precinct.core.models import AuditRecord
from precinct.core.timeutil import parse_iso, to_iso, utcnow
from precinct.errors import BadInput, Conflict, NotFound


def add_note(session: Session, *, case_id: str, text: str, by: str) -> dict[str, Any]:
    """Add a note to an open case's timeline; returns the note."""
    case = _open_case_row(session, case_id, "add a note")
    role = _require_worker(session, case, by)
    note = CaseNote(case_id=case_id, author=by, text=_text(text, "text", max_len=10_000), created_at=utcnow())
    session.add(note)
    session.flush()
    _audit(session, by=by, role=role, case_id=case_id, op="note", note=note.id)
    return {"id": note.id, "case_id": case_id, "author": by, "text": note.text, "created_at": to_iso(note.created_at)}


# --- tasks (requests for service between teams) ------------------------------------------------------

def task_view(task: CaseTask, *, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": task.id, "case_id": task.case_id, "title": task.title, "detail": task.detail, "team": task.team,
        "team_zh": TEAMS[task.team][0] if task.team in TEAMS else None, "assignee": task.assignee,
        "status": task.status, "deadline": to_iso(task.deadline), "result": task.result,
        "overdue": task.status in ("requested", "accepted") and task.deadline is not None and task.deadline < now,
        "requested_by": task.requested_by, "created_at": to_iso(task.created_at),
        "updated_by": task.updated_by, "updated_at": to_iso(task.updated_at),
    }


def create_task(session: Session, *, case_id: str, title: str, by: str, team: str | None = None,
                assignee: str | None = None, deadline: dt.datetime | None = None,
                detail: str = "") -> dict[str, Any]:
    """Request a service of a team or a user on an open case (for example 图侦: trace a vehicle).

    The team joins the case's teams; an assignee who is not on the case is added to it (audited),
    since doing the task needs the case's access.
    """
    case = _open_case_row(session, case_id, "add a task")
    role = _require_worker(session, case, by)
    if not team and not assignee:
        raise BadInput("a task needs a team or an assignee", detail={"field": "team"})
    team_code = resolve_code(team, TEAMS, "team") if team else None
    who = _existing_users(session, [assignee], "assignee")[0] if assignee else None
    if deadline is not None and deadline.tzinfo is None:
        raise BadInput("deadline needs a timezone offset", detail={"field": "deadline"})
    now = utcnow()
    task = CaseTask(case_id=case_id, title=_text(title, "title", max_len=200),
                    detail=_text(detail, "detail", max_len=10_000, required=False), team=team_code, assignee=who,
                    status="requested", deadline=deadline, result=None, requested_by=by, created_at=now,
                    updated_by=by, updated_at=now)
    session.add(task)
    session.flush()
    if team_code:
        _add_teams(session, case_id, [team_code])
    if who and _add_members(session, case_id, [who], by):
        _audit(session, by=by, role=role, case_id=case_id, op="add_member", username=who, task=task.id)
    _audit(session, by=by, role=role, case_id=case_id, op="task", task=task.id, team=team_code, assignee=who)
    return task_view(task)


def update_task(session: Session, *, case_id: str, task_id: int, by: str, status: str | None = None,
                result: str | None = None, deadline: dt.datetime | None = None) -> dict[str, Any]:
    """Move a task: requested → accepted → done, or declined; ``done`` and ``declined`` need a result."""
    case = _case(session, case_id)
    task = session.get(CaseTask, task_id)
    if task is None or task.case_id != case_id:
        raise NotFound(f"no task {task_id} on case {case_id}", detail={"field": "task_id", "value": task_id})
    if case.status != OPEN:
        raise Conflict(f"case {case_id} is closed: its tasks are final", detail={"field": "case_id"})
    role = _require_worker(session, case, by)
    changes: dict[str, Any] = {}
    if status is not None and status != task.status:
        if status not in TASK_MOVES:
            raise BadInput(f"status must be one of {', '.join(TASK_MOVES)}",
                           detail={"field": "status", "value": status})
        if status not in TASK_MOVES[task.status]:
            raise Conflict(f"a {task.status} task cannot become {status}",
                           detail={"field": "status", "from": task.status, "to": status})
        if status in ("done", "declined") and not (result or task.result):
            raise BadInput(f"a {status} task needs a result", detail={"field": "result"})
        task.status = changes["status"] = status
    if result is not None:
        task.result = _text(result, "result", max_len=10_000, required=False) or task.result
        changes["result"] = True
    if deadline is not None:
        if deadline.tzinfo is None:
            raise BadInput("deadline needs a timezone offset", detail={"field": "deadline"})
        task.deadline, changes["deadline"] = deadline, to_iso(deadline)
    if changes:
        task.updated_by, task.updated_at = by, utcnow()
        session.flush()
        _audit(session, by=by, role=role, case_id=case_id, op="task_update", task=task.id, **changes)
    return task_view(task)


def list_tasks(session: Session, *, case_id: str) -> list[dict[str, Any]]:
    now = utcnow()
    return [task_view(t, now=now) for t in
            session.scalars(select(CaseTask).where(CaseTask.case_id == case_id).order_by(CaseTask.id))]


# --- the workspace timeline ----------------------------------------------------------------------------

def _audit_kind(rec: AuditRecord, params: dict[str, Any]) -> str:
    if rec.outcome != "ok":
        return "refusal"
    if rec.resource == "cases":
        return "case"
    if rec.resource == "anpr.case_reads":
        return "pins"
    return "query"


def timeline(session: Session, *, case_id: str, limit: int = 500) -> dict[str, Any]:
    """Everything done on a case, oldest first: the audit log's records for it (queries with who, what
    parameters and how many results; pins; changes to the case; refusals), notes, links, scenes and
    tasks. Reading it is a personal-data read (the parameters name plates and people).
    """
    case = _case(session, case_id)
    limit = max(1, min(limit, 5000))
    events: list[tuple[dt.datetime, int, dict[str, Any]]] = []
    recs = list(session.scalars(select(AuditRecord).where(AuditRecord.case_id == case_id)
                                .order_by(AuditRecord.seq.desc()).limit(limit)))
    for rec in reversed(recs):
        params = json.loads(rec.params or "{}")
        events.append((parse_iso(rec.ts), 0, {
            "kind": _audit_kind(rec, params), "at": to_iso(parse_iso(rec.ts)), "seq": rec.seq, "actor": rec.actor,
            "role": rec.role, "action": rec.action, "resource": rec.resource, "params": params,
            "result_count": rec.result_count, "purpose": rec.purpose, "outcome": rec.outcome}))
    for note in session.scalars(select(CaseNote).where(CaseNote.case_id == case_id)):
        events.append((note.created_at, 1, {"kind": "note", "at": to_iso(note.created_at), "id": note.id,
                                            "actor": note.author, "text": note.text}))
    for ln in session.scalars(select(CaseLink).where(CaseLink.case_id == case_id)):
        events.append((ln.linked_at, 1, {"kind": "link", "at": to_iso(ln.linked_at), "actor": ln.linked_by,
                                         "link_kind": ln.kind, "ref_id": ln.ref_id}))
    now = utcnow()
    tasks = [task_view(t, now=now) for t in
             session.scalars(select(CaseTask).where(CaseTask.case_id == case_id).order_by(CaseTask.id))]
    for t in tasks:
        events.append((parse_iso(t["created_at"]), 1,
                       {"kind": "task", "at": t["created_at"], "actor": t["requested_by"], "task": t}))
    events.sort(key=lambda e: (e[0], e[1]))
    view = case_view(session, case, now=now)
    counts: dict[str, int] = {}
    for _, _, e in events:
        counts[e["kind"]] = counts.get(e["kind"], 0) + 1
    pinned = sum(len(e["params"].get("rids") or []) if isinstance(e["params"].get("rids"), list) else 0
                 for _, _, e in events if e["kind"] == "pins" and e["params"].get("op") == "pin")
    return {"case": view, "events": [e for _, _, e in events], "tasks": tasks, "counts": counts,
            "pinned_reads_listed": pinned}


# --- orders from the case (一键下达) --------------------------------------------------------------------

def issue_order(session: Session, *, case_id: str, title: str, body: str, recipients: list[str],
                deadline: dt.datetime, by: str, priority: str = "orange") -> dict[str, Any]:
    """Issue a one-click order from an open case (through the command domain) and link it to the case.

    The order serves the case's first linked incident, if any; it appears on the case's timeline.
    """
    from precinct.command import service as command

    case = _open_case_row(session, case_id, "issue an order from it")
    role = _require_worker(session, case, by)
    incident = session.scalar(select(CaseLink.ref_id).where(CaseLink.case_id == case_id, CaseLink.kind == "incident")
                              .order_by(CaseLink.id).limit(1))
    order = command.create_order(session, title=title, body=body, recipients=recipients, deadline=deadline,
                                 issued_by=by, priority=priority, incident_id=incident)
    view: dict[str, Any] = command.order_view(session, order, with_history=True)
    session.add(CaseLink(case_id=case_id, kind="order", ref_id=str(order.id), linked_by=by, linked_at=utcnow()))
    session.flush()
    _audit(session, by=by, role=role, case_id=case_id, op="order", order=str(order.id), recipients=recipients)
    return view
