"""``precinct public callbacks`` (回访) and ``precinct public report`` (the transparency report)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from precinct.core.clikit import AsUser, CaseId, PurposeOpt, emit_json, open_db

app = typer.Typer(help="Callbacks (回访) to callers after their incident closed.", no_args_is_help=True)
Opt = typer.Option


def _rates(items: list[str]) -> dict[str, float]:
    from precinct.errors import BadInput

    out = {}
    for item in items:
        code, _, value = item.partition("=")
        try:
            out[code] = float(value)
        except ValueError:
            raise BadInput(f"--type-rate: {item!r} is not TYPE=RATE", detail={"field": "type-rate"}) from None
    return out


@app.command("generate")
def generate(days: Annotated[float, Opt(help="incidents received in the last N days")] = 7.0,
             rate: Annotated[float, Opt(help="fraction called back (0-1)")] = 1.0,
             type_rate: Annotated[list[str] | None,
                                  Opt("--type-rate", help="TYPE=RATE, e.g. theft=0.5 (repeat)")] = None,
             as_user: AsUser = None) -> None:
    """Make callback tasks for closed incidents (all, or a deterministic sample by type)."""
    from precinct.core.access import cli_principal
    from precinct.public.service import generate_callbacks

    db = open_db()
    cli_principal(db, as_user, "public.callbacks.work")
    with db.session() as s:
        emit_json({"created": generate_callbacks(s, days=days, rate=rate, type_rates=_rates(type_rate or []))})


@app.command("list")
def list_cmd(as_user: AsUser = None) -> None:
    """Open callback tasks, oldest first (JSON; no personal data)."""
    from precinct.core.access import cli_principal
    from precinct.public.callbacks import callback_view, pending

    db = open_db()
    cli_principal(db, as_user, "public.callbacks.work")
    with db.sessionmaker() as s:
        emit_json([callback_view(r) for r in pending(s)])


@app.command("caller")
def caller(callback_id: Annotated[int, typer.Argument(help="the callback task")],
           language: Annotated[str, Opt(help="script language: zh-CN or en-US")] = "zh-CN",
           as_user: AsUser = None, case: CaseId = None, purpose: PurposeOpt = None) -> None:
    """The caller's number and the script (personal data: --purpose callback; audited)."""
    from precinct.config import get_settings
    from precinct.core.access import cli_grant
    from precinct.public.callbacks import caller_contact, get_callback, script

    db = open_db()
    grant = cli_grant(db, as_user, "public.callbacks.caller", case_id=case, purpose=purpose)
    with db.sessionmaker() as s:
        row = get_callback(s, callback_id)
        contact = caller_contact(s, incident_id=row.incident_id)
        text = script(language, agency=get_settings().public_sender_name, closed_at=row.closed_at)
    grant.record(result_count=1, params={"callback_id": callback_id, "incident_id": row.incident_id})
    emit_json({"callback": callback_id, "contact": contact, "script": text})


@app.command("record")
def record(callback_id: Annotated[int, typer.Argument(help="the callback task")],
           outcome: Annotated[str, Opt(help="reached, not_reached or declined")],
           score: Annotated[int | None, Opt(help="satisfaction 1-5 (reached callers)")] = None,
           comment: Annotated[str | None, Opt(help="what the caller said (never published)")] = None,
           complaint: Annotated[bool, Opt(help="the caller complains: opens a 7-day supervision deadline")] = False,
           complaint_to: Annotated[list[str] | None, Opt("--complaint-to",
                                                         help="order the review to user:NAME, station:NAME")] = None,
           as_user: AsUser = None) -> None:
    """Record how the callback went."""
    from precinct.config import get_settings
    from precinct.core.access import cli_principal
    from precinct.public.callbacks import callback_view, record_outcome

    db = open_db()
    principal = cli_principal(db, as_user, "public.callbacks.work")
    with db.session() as s:
        emit_json(callback_view(record_outcome(s, callback_id=callback_id, actor=principal.username,
                                               outcome=outcome, score=score, comment=comment, complaint=complaint,
                                               complaint_to=complaint_to or None,
                                               default_to=get_settings().public_complaint_to)))


@app.command("stats")
def stats(month: Annotated[str, Opt(help="YYYY-MM: incidents closed in this month")], as_user: AsUser = None) -> None:
    """Outcomes and satisfaction by station and type (JSON)."""
    from precinct.config import get_settings
    from precinct.core.access import cli_principal
    from precinct.public.callbacks import satisfaction
    from precinct.public.stats import parse_month

    db = open_db()
    cli_principal(db, as_user, "public.callbacks.stats")
    m = parse_month(month)
    with db.sessionmaker() as s:
        emit_json(satisfaction(s, since=m.since, until=m.until, k=get_settings().public_k))


def report(month: Annotated[str, Opt(help="YYYY-MM (UTC)")],
           fmt: Annotated[str, Opt("--format", help="html, json or pdf")] = "html",
           out: Annotated[Path | None, Opt("--out", help="write to this file (a PDF goes to stdout otherwise)")] = None,
           ) -> None:
    """The monthly transparency report (public: aggregate figures only)."""
    from precinct.config import get_settings
    from precinct.errors import BadInput
    from precinct.public.report import render_html
    from precinct.public.service import transparency_report

    if fmt not in ("html", "json", "pdf"):
        raise BadInput(f"--format: {fmt!r} is not html, json or pdf", detail={"field": "format"})
    db = open_db()
    settings = get_settings()
    with db.sessionmaker() as s:
        result = transparency_report(s, month=month, settings=settings)
    if fmt == "pdf":
        from precinct.public.reportpdf import render_pdf

        data = render_pdf(result, agency=settings.public_sender_name)
        if out is not None:
            out.write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return
    text = (json.dumps(result, ensure_ascii=False, default=str) if fmt == "json"
            else render_html(result, agency=settings.public_sender_name)) + "\n"
    if out is not None:
        out.write_text(text, encoding="utf-8")
    elif fmt == "json":
        emit_json(result)
    else:
        sys.stdout.write(text)
