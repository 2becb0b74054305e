"""Case-handling supervision (执法办案全流程监督): deadlines per case type and stage, overdue cases
and tasks, completeness checks and per-team statistics.

Deadlines are configurable: :data:`precinct.cases.codes.DEFAULT_DEADLINES` unless the
``case_deadlines`` table (``PUT /api/v1/cases/deadlines``, ``precinct cases deadline``) says otherwise.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.cases.codes import (
    CASE_TYPES,
    CLOSED,
    DEFAULT_DEADLINES,
    OPEN,
    STAGES,
    TEAMS,
    deadline_days,
    purpose_fits,
    resolve_code,
)
from precinct.cases.models import Case, CaseDeadline, CaseScene, CaseTask, CaseTeam
from precinct.core import access, audit
from precinct.core.models import AuditRecord
from precinct.core.roles import AuditAction
from precinct.core.timeutil import to_iso, utcnow
from precinct.errors import BadInput

CRIME_TYPES = frozenset({"theft", "burglary", "robbery", "assault", "fraud"})
OPEN_TASK = ("requested", "accepted")


def overrides(session: Session) -> dict[tuple[str, str], float]:
    """The configured deadlines (days) by (type, stage)."""
    return {(r.type, r.stage): r.days for r in session.scalars(select(CaseDeadline))}


def stage_deadline(session: Session, case: Case,
                   configured: dict[tuple[str, str], float] | None = None) -> dt.datetime | None:
    """When an open case's current stage is due (None for a closed case)."""
    if case.status != OPEN:
        return None
    days = deadline_days(case.type, case.stage, overrides(session) if configured is None else configured)
    return case.stage_since + dt.timedelta(days=days)


def deadlines(session: Session) -> list[dict[str, Any]]:
    """Every (type, stage) with its deadline in days and whether it is configured or the default."""
    configured = overrides(session)
    return [{"type": t, "stage": s, "days": deadline_days(t, s, configured),
             "source": "configured" if (t, s) in configured else
             ("default" if (t, s) in DEFAULT_DEADLINES else "stage default")}
            for t in CASE_TYPES for s in STAGES]


def set_deadline(session: Session, *, type: str, stage: str, days: float, by: str, role: str) -> dict[str, Any]:
    """Configure the deadline of ``stage`` for cases of ``type`` (audited)."""
    t = resolve_code(type, CASE_TYPES, "type")
    s = resolve_code(stage, STAGES, "stage")
    if not (0 < days <= 3650):
        raise BadInput("days must be within 0..3650", detail={"field": "days", "value": days})
    row = session.get(CaseDeadline, (t, s))
    if row is None:
        session.add(CaseDeadline(type=t, stage=s, days=float(days), set_by=by, set_at=utcnow()))
    else:
        row.days, row.set_by, row.set_at = float(days), by, utcnow()
    session.flush()
    audit.append(session, actor=by, role=role, action=AuditAction.administration, resource="cases.deadlines",
                 params={"type": t, "stage": s, "days": float(days)})
    return {"type": t, "stage": s, "days": float(days), "source": "configured"}


def overdue(session: Session, *, now: dt.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Open cases past their stage's deadline and open tasks past theirs, most overdue first."""
    now = now or utcnow()
    configured = overrides(session)
    cases: list[dict[str, Any]] = []
    for c in session.scalars(select(Case).where(Case.status == OPEN)):
        due = stage_deadline(session, c, configured)
        if due is not None and due < now:
            cases.append({"id": c.id, "title": c.title, "type": c.type, "stage": c.stage, "lead": c.lead,
                          "due": to_iso(due), "overdue_hours": round((now - due).total_seconds() / 3600, 1)})
    cases.sort(key=lambda r: -r["overdue_hours"])
    tasks: list[dict[str, Any]] = []
    q = (select(CaseTask, Case.lead).join(Case, Case.id == CaseTask.case_id)
         .where(CaseTask.status.in_(OPEN_TASK), CaseTask.deadline.is_not(None), CaseTask.deadline < now,
                Case.status == OPEN))
    for t, lead in session.execute(q):
        tasks.append({"id": t.id, "case_id": t.case_id, "title": t.title, "team": t.team, "assignee": t.assignee,
                      "status": t.status, "lead": lead, "due": to_iso(t.deadline),
                      "overdue_hours": round((now - (t.deadline or now)).total_seconds() / 3600, 1)})
    tasks.sort(key=lambda r: -r["overdue_hours"])
    return {"cases": cases, "tasks": tasks}


def completeness(session: Session, *, case_id: str | None = None) -> list[dict[str, Any]]:
    """Problems in case handling, one row each (``case_id``, ``check``, ``message``).

    Checks: a closed case has a reason and a disposition; a closed case keeps nothing (no pinned
    reads: asked of the domains through :func:`precinct.core.access.case_holdings`); every
    personal-data read under a case had a purpose its type allows; an open case has a team, and a
    crime case a scene.
    """
    problems: list[dict[str, Any]] = []
    q = select(Case)
    if case_id is not None:
        q = q.where(Case.id == case_id)
    cases = {c.id: c for c in session.scalars(q)}
    with_team = set(session.scalars(select(CaseTeam.case_id).distinct()))
    with_scene = set(session.scalars(select(CaseScene.case_id).distinct()))
    for c in cases.values():
        if c.status == CLOSED:
            if not c.disposition:
                problems.append({"case_id": c.id, "check": "disposition", "message": "closed without a disposition"})
            if not (c.close_reason or "").strip():
                problems.append({"case_id": c.id, "check": "reason", "message": "closed without a reason"})
            for name, n in access.case_holdings(session, c.id).items():
                problems.append({"case_id": c.id, "check": "holdings",
                                 "message": f"closed but still keeps {n} {name}"})
        else:
            if c.id not in with_team:
                problems.append({"case_id": c.id, "check": "team", "message": "no team (警种) on the case"})
            if c.type in CRIME_TYPES and c.id not in with_scene:
                problems.append({"case_id": c.id, "check": "scene", "message": "a crime case without a scene"})
    aq = (select(AuditRecord.case_id, AuditRecord.purpose, Case.type, func.count(), func.min(AuditRecord.seq))
          .join(Case, Case.id == AuditRecord.case_id)
          .where(AuditRecord.outcome == "ok", AuditRecord.purpose.is_not(None))
          .group_by(AuditRecord.case_id, AuditRecord.purpose, Case.type))
    if case_id is not None:
        aq = aq.where(AuditRecord.case_id == case_id)
    for cid, purpose, ctype, n, first in session.execute(aq):
        if purpose is not None and not purpose_fits(purpose, ctype):
            problems.append({"case_id": cid, "check": "purpose",
                             "message": f"{n} read(s) for purpose {purpose} do not fit a {ctype} case "
                                        f"(first: audit record {first})"})
    return problems


def team_stats(session: Session, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per team (警种): open and closed cases, hours to close (median, mean), open and overdue tasks."""
    now = now or utcnow()
    rows: dict[str, dict[str, Any]] = {t: {"team": t, "team_zh": zh, "open_cases": 0, "closed_cases": 0,
                                           "hours_to_close": [], "open_tasks": 0, "overdue_tasks": 0}
                                       for t, (zh, _en) in TEAMS.items()}
    q = select(CaseTeam.team, Case.status, Case.created_at, Case.closed_at).join(Case, Case.id == CaseTeam.case_id)
    for team, status, created, closed in session.execute(q):
        r = rows.setdefault(team, {"team": team, "team_zh": team, "open_cases": 0, "closed_cases": 0,
                                   "hours_to_close": [], "open_tasks": 0, "overdue_tasks": 0})
        if status == OPEN:
            r["open_cases"] += 1
        else:
            r["closed_cases"] += 1
            if closed is not None:
                r["hours_to_close"].append((closed - created).total_seconds() / 3600)
    tq = select(CaseTask.team, CaseTask.deadline).where(CaseTask.status.in_(OPEN_TASK), CaseTask.team.is_not(None))
    for task_team, deadline in session.execute(tq):
        counts = rows.get(task_team or "")
        if counts is None:
            continue
        counts["open_tasks"] += 1
        if deadline is not None and deadline < now:
            counts["overdue_tasks"] += 1
    out = []
    for r in rows.values():
        hours = r.pop("hours_to_close")
        r["median_hours_to_close"] = round(statistics.median(hours), 2) if hours else None
        r["mean_hours_to_close"] = round(statistics.fmean(hours), 2) if hours else None
        out.append(r)
    return out


def report(session: Session, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The supervision screen: overdue cases and tasks, completeness problems, per-team statistics."""
    now = now or utcnow()
    counts = {status: int(n) for status, n in session.execute(select(Case.status, func.count()).group_by(Case.status))}
    return {"at": to_iso(now), "open_cases": counts.get(OPEN, 0), "closed_cases": counts.get(CLOSED, 0),
            "overdue": overdue(session, now=now), "completeness": completeness(session),
            "teams": team_stats(session, now=now)}
