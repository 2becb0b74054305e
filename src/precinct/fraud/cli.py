"""``precinct fraud``: the anti-fraud centre (反诈中心) — report import, linked clusters, stop-payment and
freeze lists, statistics.

Heavy modules (the database, SciPy, phonenumbers) are imported inside the commands, so that
``precinct --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from precinct.core.clikit import AsUser, CaseId, FormatOpt, PurposeOpt, emit_json, err_console, open_db

app = typer.Typer(help="Anti-fraud centre (反诈中心): linked fraud reports, stop-payment and freezes, warnings.",
                  no_args_is_help=True)
requests_app = typer.Typer(help="Stop-payment and freeze requests (止付冻结).", no_args_is_help=True)
app.add_typer(requests_app, name="requests")


@app.command("types")
def types_cmd(as_user: AsUser = None, format: FormatOpt = "table") -> None:
    """The fraud-type code table (诈骗类型)."""
    from precinct.core.access import cli_principal
    from precinct.fraud import service

    cli_principal(open_db(), as_user, "fraud.types")
    rows = service.fraud_types()
    if format == "json":
        emit_json({"types": rows})
        return
    for r in rows:
        typer.echo(f"{r['code']:<28} {r['zh']:<10} {r['en']}")


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="CSV: report_id, ts, type, loss, accounts, phones, urls (lists "
                                              "';'-separated)")],
    case: Annotated[str | None, typer.Option("--case", help="put every new report in this case (default: a "
                                                            "fraud case per new cluster)")] = None,
    strict: Annotated[bool, typer.Option(help="store nothing when any row or identifier is malformed")] = False,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Import fraud reports (报案) from CSV: normalised, stored once per report_id, linked all-or-nothing."""
    from precinct.core.access import cli_principal
    from precinct.fraud import intake, service

    db = open_db()
    principal = cli_principal(db, as_user, "fraud.import")
    with err_console.status(f"reading {path.name} …"):
        parsed = intake.parse_csv(path)
    with err_console.status(f"linking {len(parsed.reports)} reports …"), db.session() as s:
        result = service.import_reports(s, parsed=parsed, principal=principal, case_id=case, strict=strict)
    if format == "json":
        emit_json(result)
        return
    typer.echo(f"rows {result['rows']}: stored {result['stored']}, duplicates {result['duplicates']}, "
               f"rejected {result['rejected']}; clusters opened {result['clusters_opened']}, "
               f"merged {result['clusters_merged']}")
    for p in result["problems"][:50]:
        typer.echo(f"  line {p.get('line')}: {p['field']}: {p['reason']}"
                   + (f" ({p['value']!r})" if p.get("value") is not None else "")
                   + (" — row rejected" if p.get("rejected") else ""))
    if result["problem_count"] > 50:
        typer.echo(f"  … and {result['problem_count'] - 50} more (use --format json)")


@app.command("clusters")
def clusters_cmd(
    min_reports: Annotated[int, typer.Option("--min-reports", help="only clusters of at least N reports")] = 1,
    of_case: Annotated[str | None, typer.Option("--of-case", help="only the clusters of this case")] = None,
    limit: Annotated[int | None, typer.Option(help="at most N clusters, largest loss first")] = None,
    as_user: AsUser = None,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    format: FormatOpt = "table",
) -> None:
    """Linked reports (串并案): clusters of reports sharing any normalised identifier (personal data)."""
    from precinct.core.access import cli_grant
    from precinct.fraud import service

    db = open_db()
    grant = cli_grant(db, as_user, "fraud.clusters", case_id=case, purpose=purpose)
    with db.sessionmaker() as s:
        clusters = service.list_clusters(s, min_reports=min_reports, case_id=of_case, limit=limit)
    grant.record(result_count=len(clusters), params={"min_reports": min_reports, "of_case": of_case,
                                                     "limit": limit, "cluster_ids": [c["cluster_id"]
                                                                                     for c in clusters][:200]})
    if format == "json":
        emit_json({"clusters": [{"report_ids": c["report_ids"], "identifiers": c["identifiers"],
                                 "loss_total": c["loss_total"]} for c in clusters]})
        return
    for c in clusters:
        typer.echo(f"cluster {c['cluster_id']} (case {c['case_id']}): {len(c['report_ids'])} reports, "
                   f"loss {c['loss_total']:,.2f} CNY; identifiers: {', '.join(c['identifiers'][:5])}")


@app.command("cluster")
def cluster_cmd(
    cluster_id: Annotated[int, typer.Argument(help="cluster id")],
    as_user: AsUser = None,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    format: FormatOpt = "table",
) -> None:
    """One cluster: victims, total loss, timeline, identifiers ranked by reports linked (personal data)."""
    from precinct.core.access import cli_grant
    from precinct.fraud import service

    db = open_db()
    grant = cli_grant(db, as_user, "fraud.reports.read", case_id=case, purpose=purpose)
    with db.sessionmaker() as s:
        view = service.cluster_view(s, cluster_id=cluster_id)
    grant.record(result_count=view["report_count"], params={"cluster_id": cluster_id})
    if format == "json":
        emit_json(view)
        return
    typer.echo(f"cluster {view['cluster_id']} (case {view['case_id']}): {view['report_count']} reports, "
               f"loss {view['loss_total']:,.2f} CNY, {view['first_ts']} .. {view['last_ts']}")
    typer.echo("identifiers (most-linking first):")
    for i in view["identifiers"]:
        typer.echo(f"  {i['reports']:>5}  {i['kind']:<8} {i['value']}" + (f" ({i['bank']})" if i["bank"] else ""))
    typer.echo("timeline:")
    for t in view["timeline"]:
        typer.echo(f"  {t['ts']}  {t['report_id']}  {t['type_zh']}  {t['loss']:,.2f} {t['currency']}")


@requests_app.command("list")
def requests_list_cmd(
    state: Annotated[str | None, typer.Option(help="only this state")] = None,
    flagged: Annotated[bool, typer.Option(help="only overdue, expired or about-to-expire requests")] = False,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="write the list to this CSV file")] = None,
    as_user: AsUser = None,
    case: CaseId = None,
    purpose: PurposeOpt = None,
    format: FormatOpt = "table",
) -> None:
    """Stop-payment and freeze requests with their legal clock; --csv writes the list to send."""
    from precinct.core.access import cli_grant
    from precinct.fraud import service

    db = open_db()
    grant = cli_grant(db, as_user, "fraud.requests.read", case_id=case, purpose=purpose)
    with db.sessionmaker() as s:
        rows: list[dict[str, Any]] = service.list_requests(s, state=state)
    if flagged:
        rows = [r for r in rows if r["flag"]]
    grant.record(result_count=len(rows), params={"state": state, "flagged": flagged,
                                                 "request_ids": [r["id"] for r in rows][:200]})
    if csv_out is not None:
        csv_out.write_text(service.export_requests_csv(rows), encoding="utf-8")
    if format == "json":
        emit_json({"requests": rows})
        return
    for r in rows:
        typer.echo(f"{r['id']} {r['kind_zh']} {r['state_zh']:<4} {r['bank']} {r['account']} "
                   f"held {r['amount_held']:,.2f} due {r['due_at'] or '-'} expires {r['expires_at'] or '-'}"
                   + (f"  [{r['flag']}]" if r["flag"] else ""))


@app.command("stats")
def stats_cmd(
    since: Annotated[str | None, typer.Option(help="first month YYYY-MM")] = None,
    until: Annotated[str | None, typer.Option(help="last month YYYY-MM")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Monthly figures: reports and losses by type, warnings, accounts stopped/frozen, amounts returned."""
    from precinct.core.access import cli_principal
    from precinct.fraud import service
    from precinct.fraud.stats import check_month

    db = open_db()
    cli_principal(db, as_user, "fraud.stats")
    with db.sessionmaker() as s:
        stats = service.monthly_stats(s, since=check_month(since, "since"), until=check_month(until, "until"))
    if format == "json":
        emit_json(stats)
        return
    for m in stats["months"]:
        typer.echo(f"{m['month']}: {m['reports']} reports, loss {m['loss']:,.2f}; warnings {m['warnings_issued']} "
                   f"(reached {m['warnings_reached']}, stopped {m['transfers_stopped']}); stopped "
                   f"{m['accounts_stopped']}, frozen {m['accounts_frozen']}, held {m['amount_held']:,.2f}, "
                   f"returned {m['amount_returned']:,.2f}")
