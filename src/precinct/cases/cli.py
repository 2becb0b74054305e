"""``precinct cases``: open, list, show, close and staff cases; tasks, links, notes; the timeline and
the supervision report. Every command acts as a named user (``--as``), checked like the API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from precinct.core.clikit import AsUser, CaseId, FormatOpt, PurposeOpt, emit_json, open_db

if TYPE_CHECKING:
    from precinct.core.db import Database
    from precinct.core.identity import Principal

app = typer.Typer(help="Cases and joint operations (合成作战): the case is the key to personal data.",
                  no_args_is_help=True)

CaseArg = Annotated[str, typer.Argument(help="case id (as issued by Precinct)")]


def _run(db: Database, principal: Principal, audit_case: str | None, fn: Any, /, *, write: bool = True,
         **kw: Any) -> Any:
    """Run a service call in a unit of work; a refusal by the service is audited (as in the API)."""
    from precinct.core.access import refuse
    from precinct.errors import Forbidden

    try:
        if write:
            with db.session() as s:
                return fn(s, **kw)
        with db.sessionmaker() as s:
            return fn(s, **kw)
    except Forbidden as exc:
        raise refuse(db, actor=principal.username, role=principal.role.value, resource="cases",
                     reason=exc.message, case_id=audit_case[:128] if audit_case else None) from None


def _print_case(c: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        emit_json(c)
        return
    typer.echo(f"{c['id']}  [{c['status']}] {c['type']} ({c['type_zh']})  {c['title']}")
    typer.echo(f"  lead {c['lead']}; members {', '.join(c['members']) or '-'}; teams {', '.join(c['teams']) or '-'}")
    typer.echo(f"  stage {c['stage']} since {c['stage_since']}, due {c['stage_deadline'] or '-'}"
               f"{'  OVERDUE' if c['overdue'] else ''}")
    if c["incidents"] or c["calls"] or c["orders"]:
        typer.echo(f"  incidents {', '.join(c['incidents']) or '-'}; calls {', '.join(c['calls']) or '-'}; "
                   f"orders {', '.join(c['orders']) or '-'}")
    if c["status"] == "closed":
        typer.echo(f"  closed {c['closed_at']} by {c['closed_by']}: {c['disposition'] or '-'} — {c['close_reason']}")


@app.command("open")
def open_cmd(
    title: Annotated[str, typer.Option("--title", help="what the case is about")],
    type: Annotated[str, typer.Option("--type", help="case type code: theft, burglary, robbery, assault, fraud, "
                                      "missing_person, traffic, public_order, other, review")],
    member: Annotated[list[str] | None, typer.Option("--member", help="a member's username (repeatable)")] = None,
    team: Annotated[list[str] | None, typer.Option("--team", help="a team code or name, e.g. video or 图侦 "
                                                   "(repeatable)")] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="the force's own case number")] = None,
    summary: Annotated[str, typer.Option("--summary", help="a summary")] = "",
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Open a case led by the acting user; prints the case (its id issued by Precinct)."""
    from precinct.cases import service
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.open")
    case = _run(db, principal, None, service.open_case, title=title, type=type, lead=principal.username,
                members=member or [], teams=team or [], ref=ref, summary=summary, by=principal.username)
    _print_case(case, format)


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="cases CSV: case_id, lat, lon, start, end[, radius_km]")],
    type: Annotated[str, typer.Option("--type", help="case type code for every case opened")],
    member: Annotated[list[str] | None, typer.Option("--member", help="a member's username (repeatable)")] = None,
    team: Annotated[list[str] | None, typer.Option("--team", help="a team code or name (repeatable)")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Open one case per row of a cases CSV (the row's case_id becomes the reference; its place and
    window the scene). Rows already imported are skipped; a bad row names its line and nothing opens."""
    from precinct.cases import flows
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.open")
    rows = _run(db, principal, None, flows.open_cases_from_file, path=path, type=type, lead=principal.username,
                by=principal.username, members=member or [], teams=team or [])
    if format == "json":
        emit_json({"cases": rows})
        return
    for r in rows:
        typer.echo(f"{r['ref']} -> {r['id']}{'' if r['opened'] else ' (already there)'}")
    typer.echo(f"opened {sum(r['opened'] for r in rows)}, already there {sum(not r['opened'] for r in rows)}")


@app.command("list")
def list_cmd(
    all_cases: Annotated[bool, typer.Option("--all", help="every case (supervisors and auditors)")] = False,
    status: Annotated[str | None, typer.Option("--status", help="open or closed")] = None,
    type: Annotated[str | None, typer.Option("--type", help="case type code")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """The acting user's cases, newest first (``--all`` for supervisors and auditors)."""
    from precinct.cases import service
    from precinct.cases.codes import SUPERVISORS
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.read")
    only = None if all_cases and principal.role in SUPERVISORS else principal.username
    cases = _run(db, principal, None, service.list_cases, write=False, username=only, status=status, type=type)
    if format == "json":
        emit_json({"cases": cases})
        return
    for c in cases:
        typer.echo(f"{c['id']}  [{c['status']}] {c['type']:<15} {c['lead']:<16} {c['title']}")
    typer.echo(f"{len(cases)} case(s)")


@app.command("show")
def show_cmd(case_id: CaseArg, as_user: AsUser = None, format: FormatOpt = "table") -> None:
    """One case: members, teams, scenes, links, stage and deadline."""
    from precinct.cases import service
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.read")

    def _show(s: Any, **_kw: Any) -> dict[str, Any]:
        service.require_reader(s, case_id=case_id, username=principal.username)
        return service.get_case(s, case_id)

    _print_case(_run(db, principal, case_id, _show, write=False), format)


@app.command("close")
def close_cmd(
    case_id: CaseArg,
    reason: Annotated[str, typer.Option("--reason", help="why the case closes")],
    disposition: Annotated[str | None, typer.Option("--disposition", help="solved, referred, found, no_crime, "
                                                    "unsolved, merged, other")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Close a case (its lead or a supervisor): access under it ends now; pinned reads are released."""
    from precinct.cases import service
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.manage")
    _print_case(_run(db, principal, case_id, service.close_case, case_id=case_id, by=principal.username,
                     reason=reason, disposition=disposition), format)


@app.command("add-member")
def add_member_cmd(case_id: CaseArg,
                   username: Annotated[str, typer.Argument(help="the user to add")],
                   as_user: AsUser = None, format: FormatOpt = "table") -> None:
    """Add a member to an open case (its lead or a supervisor)."""
    from precinct.cases import service
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.manage")
    _print_case(_run(db, principal, case_id, service.add_member, case_id=case_id, username=username,
                     by=principal.username), format)


@app.command("remove-member")
def remove_member_cmd(case_id: CaseArg,
                      username: Annotated[str, typer.Argument(help="the user to take off the case")],
                      as_user: AsUser = None, format: FormatOpt = "table") -> None:
    """Take a member off a case; their access ends at once."""
    from precinct.cases import service
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.manage")
    _print_case(_run(db, principal, case_id, service.remove_member, case_id=case_id, username=username,
                     by=principal.username), format)


@app.command("link")
def link_cmd(case_id: CaseArg,
             kind: Annotated[str, typer.Argument(help="incident, call or order")],
             ref_id: Annotated[str, typer.Argument(help="its id")],
             as_user: AsUser = None, format: FormatOpt = "table") -> None:
    """Link an incident, call or order to a case."""
    from precinct.cases import service
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.work")
    _print_case(_run(db, principal, case_id, service.link, case_id=case_id, kind=kind, ref_id=ref_id,
                     by=principal.username), format)


@app.command("task")
def task_cmd(
    case_id: CaseArg,
    title: Annotated[str, typer.Option("--title", help="what is asked, e.g. 'trace the vehicle from 16:08'")],
    team: Annotated[str | None, typer.Option("--team", help="the team asked (code or name, e.g. video, 图侦)")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="the user asked")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="ISO 8601 with offset")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Request a service of a team or a user on a case (请求服务)."""
    from precinct.cases import service
    from precinct.core.access import cli_principal
    from precinct.core.timeutil import parse_iso_field

    db = open_db()
    principal = cli_principal(db, as_user, "cases.work")
    due: dt.datetime | None = parse_iso_field(deadline, "deadline") if deadline else None
    task = _run(db, principal, case_id, service.create_task, case_id=case_id, title=title, team=team,
                assignee=assignee, deadline=due, by=principal.username)
    if format == "json":
        emit_json(task)
    else:
        typer.echo(f"task {task['id']} on {case_id}: {task['status']} → {task['team'] or task['assignee']}")


@app.command("timeline")
def timeline_cmd(case: CaseId = None, purpose: PurposeOpt = "investigation", as_user: AsUser = None,
                 format: FormatOpt = "table") -> None:
    """The timeline of the case named by ``--case`` (a personal-data read: audited)."""
    from precinct.cases import service
    from precinct.core.access import cli_grant

    db = open_db()
    grant = cli_grant(db, as_user, "cases.timeline", case_id=case, purpose=purpose)
    with db.sessionmaker() as s:
        out = service.timeline(s, case_id=grant.case_id)
    grant.record(result_count=len(out["events"]), params={"limit": 500})
    if format == "json":
        emit_json(out)
        return
    for e in out["events"]:
        what = e.get("resource") or e.get("link_kind") or ""
        n = e.get("result_count")
        typer.echo(f"{e['at']}  {e['kind']:<8} {e.get('actor', ''):<16} {what}{'' if n is None else f' ({n})'}")


@app.command("supervision")
def supervision_cmd(as_user: AsUser = None, format: FormatOpt = "table") -> None:
    """Overdue cases and tasks, completeness problems, per-team statistics (supervisors, auditors)."""
    from precinct.cases import supervision
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.supervise")
    rep = _run(db, principal, None, supervision.report, write=False)
    if format == "json":
        emit_json(rep)
        return
    typer.echo(f"open {rep['open_cases']}, closed {rep['closed_cases']}")
    for c in rep["overdue"]["cases"]:
        typer.echo(f"overdue case {c['id']} ({c['stage']}, lead {c['lead']}): {c['overdue_hours']} h")
    for t in rep["overdue"]["tasks"]:
        typer.echo(f"overdue task {t['id']} on {t['case_id']} ({t['team'] or t['assignee']}): {t['overdue_hours']} h")
    for p in rep["completeness"]:
        typer.echo(f"{p['case_id']}: {p['check']}: {p['message']}")


@app.command("deadline")
def deadline_cmd(
    type: Annotated[str, typer.Option("--type", help="case type code")],
    stage: Annotated[str, typer.Option("--stage", help="registered, investigating or concluding")],
    days: Annotated[float, typer.Option("--days", help="days a case may stay in the stage")],
    as_user: AsUser = None,
) -> None:
    """Configure a handling deadline (supervisors, administrators)."""
    from precinct.cases import supervision
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "cases.deadlines")
    row = _run(db, principal, None, supervision.set_deadline, type=type, stage=stage, days=days,
               by=principal.username, role=principal.role.value)
    typer.echo(f"{row['type']} {row['stage']}: {row['days']} days")
