"""Shared pieces for domain CLIs: the database, the acting user, JSON output, progress bars."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

if TYPE_CHECKING:  # the database stack costs ~0.6 s to import; `precinct --help` must not pay it
    from precinct.core.db import Database

err_console = Console(stderr=True)

AsUser = Annotated[str | None, typer.Option("--as", envvar="PRECINCT_USER",
                                            help="Precinct user this command acts as (role checked, audited)")]
CaseId = Annotated[str | None, typer.Option("--case", help="case id this personal-data read serves")]
PurposeOpt = Annotated[str | None, typer.Option("--purpose", help="purpose code: investigation, missing_person, "
                                                "hotlist_alert, audit_review, incident_response")]
FormatOpt = Annotated[str, typer.Option("--format", help="output format: table or json")]


def open_db(*, migrate: bool = True) -> Database:
    """The operations database named by the settings, migrated to the newest schema."""
    from precinct.config import get_settings
    from precinct.core.db import Database

    db = Database.from_settings(get_settings())
    if migrate:
        db.migrate()
    return db


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str, indent=2) + "\n")


def progress_bar(*, transient: bool = False) -> Progress:
    """A Rich progress bar on stderr (stdout stays clean for JSON)."""
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=err_console, transient=transient)
