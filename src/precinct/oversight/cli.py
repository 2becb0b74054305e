"""``precinct audit`` (verify the chain) and ``precinct retention run``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from precinct.core.clikit import AsUser, FormatOpt, emit_json, err_console, open_db, progress_bar

CLI_NAME = "audit"
app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    format: FormatOpt = "table",
    workers: int = typer.Option(1, "--workers", min=1, help="processes checking ranges in parallel (large logs)"),
) -> None:
    """Check the whole chain: exit 0 if intact, 1 naming the first bad record."""
    from sqlalchemy import func, select

    from precinct.core import audit
    from precinct.core.models import AuditRecord

    db = open_db()
    with db.sessionmaker() as s:
        total = s.scalar(select(func.count()).select_from(AuditRecord)) or 0
    with progress_bar(transient=True) as bar:
        task = bar.add_task("verifying audit chain", total=total)
        result = audit.verify(db.read_engine, progress=lambda n: bar.update(task, completed=n),
                              workers=workers)
        bar.update(task, completed=result.checked)
    from precinct.config import get_settings
    from precinct.core import anchor

    anchored = anchor.check(db.read_engine, get_settings())
    if format == "json":
        emit_json({"ok": result.ok and anchored.ok, "checked": result.checked,
                   "first_bad_seq": result.first_bad_seq, "reason": result.reason, "anchor": anchored.as_dict()})
    elif not result.ok:
        err_console.print(f"[red]audit chain BROKEN[/red] at record {result.first_bad_seq}: {result.reason}")
    elif not anchored.ok:
        err_console.print(f"[red]audit log does not match its checkpoints[/red]: {anchored.reason}")
    else:
        typer.echo(f"audit chain intact: {result.checked} records")
        typer.echo(f"checkpoints: {anchored.checkpoints}, latest at record {anchored.latest_seq} ({anchored.latest_ts})"
                   if anchored.checkpoints else "checkpoints: none yet (run `precinct audit checkpoint`)")
    raise typer.Exit(0 if result.ok and anchored.ok else 1)


@app.command("checkpoint")
def checkpoint(format: FormatOpt = "table") -> None:
    """Sign the chain's head and append it to the checkpoint files (PRECINCT_AUDIT_ANCHOR_DIR)."""
    from precinct.config import get_settings
    from precinct.core import anchor

    settings = get_settings()
    entry = anchor.write_checkpoint(open_db().engine, settings)
    if format == "json":
        emit_json(entry)
    else:
        typer.echo(f"checkpoint written: record {entry['seq']} ({entry['hash'][:16]}…) in {settings.anchor_dir}")


retention_app = typer.Typer(help="Retention limits, enforced by code.", no_args_is_help=True)


@retention_app.command("run")
def retention_run(as_user: AsUser = None, format: FormatOpt = "table") -> None:
    """Erase what is past its retention period in every domain; each erasure is audited.

    Without ``--as`` it runs as the ``retention`` system actor (the scheduled job); with it, the
    named user must exist, be active and hold ``retention.run``."""
    from precinct.config import get_settings
    from precinct.core.access import cli_principal
    from precinct.domains import domain_modules

    settings = get_settings()
    db = open_db()
    if as_user:
        as_user = cli_principal(db, as_user, "retention.run").username
    now = dt.datetime.now(dt.UTC)
    summaries: list[dict[str, Any]] = []
    for module in domain_modules("retention"):
        summaries.extend(module.run(db=db, settings=settings, now=now, actor=as_user or "retention"))
    if format == "json":
        emit_json({"erasures": summaries})
    else:
        for s in summaries:
            typer.echo(f"{s.get('resource')}: erased {s.get('erased', 0)} (kept {s.get('kept', 0)})")
        if not summaries:
            typer.echo("nothing to erase")


def register(root: typer.Typer) -> None:
    from precinct.oversight.backup_cli import app as backup_app

    root.add_typer(retention_app, name="retention")
    root.add_typer(backup_app, name="backup")
