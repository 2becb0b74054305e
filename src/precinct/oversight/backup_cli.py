"""``precinct backup create DIR`` / ``precinct backup restore DIR`` (see :mod:`precinct.core.backup`)."""

from __future__ import annotations

from pathlib import Path

import typer

from precinct.core.clikit import FormatOpt, emit_json, err_console, open_db

app = typer.Typer(help="Back up and restore the database, the warehouse and the audit checkpoints.",
                  no_args_is_help=True)


@app.command("create")
def create(
    directory: Path = typer.Argument(..., help="new or empty directory to write the backup into"),
    warehouse: bool = typer.Option(True, "--warehouse/--no-warehouse",
                                   help="copy the analytics warehouse too (it must not be held by a server)"),
    format: FormatOpt = "table",
) -> None:
    """Write a consistent backup (a fresh audit checkpoint first, SHA-256 of every file in the manifest)."""
    from precinct.config import get_settings
    from precinct.core import backup

    manifest = backup.create(settings=get_settings(), db=open_db(), out_dir=directory, include_warehouse=warehouse)
    if format == "json":
        emit_json(manifest)
    else:
        head = manifest["audit_head"]
        typer.echo(f"backup written to {directory}: {len(manifest['files'])} files, audit head record {head['seq']}")


@app.command("restore")
def restore(
    directory: Path = typer.Argument(..., help="a directory written by `precinct backup create`"),
    force: bool = typer.Option(False, "--force", help="replace a non-empty database and an existing warehouse"),
    format: FormatOpt = "table",
) -> None:
    """Restore a backup into the configured database and data directory, then verify the audit chain."""
    from precinct.config import get_settings
    from precinct.core import anchor, audit, backup

    settings = get_settings()
    manifest = backup.restore(settings=settings, db=open_db(migrate=False), in_dir=directory, force=force)
    db = open_db()  # a restored older schema is brought up to date
    chain = audit.verify(db.read_engine)
    anchored = anchor.check(db.read_engine, settings)
    ok = chain.ok and anchored.ok
    if format == "json":
        emit_json({"ok": ok, "restored": manifest, "audit": {"ok": chain.ok, "checked": chain.checked,
                                                              "reason": chain.reason},
                   "anchor": anchored.as_dict()})
    elif ok:
        typer.echo(f"restored from {directory}; audit chain intact ({chain.checked} records), "
                   f"{anchored.checkpoints} checkpoints match")
    else:
        err_console.print(f"[red]restored, but the audit check failed[/red]: {chain.reason or anchored.reason}")
    raise typer.Exit(0 if ok else 1)
