"""``precinct calls`` (import, types) and ``precinct incidents`` (list, export-eido, import-eido)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from precinct.calls.types import type_table
from precinct.core.clikit import AsUser, FormatOpt, emit_json, err_console, open_db, progress_bar
from precinct.core.roles import Role

CLI_NAME = "calls"
DEFAULT_AGENCY = "precinct.police.local"  # calls.eido.DEFAULT_AGENCY (not imported: keeps --help fast)
app = typer.Typer(help="110 call intake: import calls, list incident types.", no_args_is_help=True)
incidents_app = typer.Typer(help="Incidents: list, export and import NENA EIDO.", no_args_is_help=True)
INTAKE = (Role.call_taker, Role.dispatcher, Role.supervisor, Role.admin)
COMMAND = (Role.dispatcher, Role.supervisor, Role.admin)


@app.command("import")
def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="calls CSV: call_id, ts, lat, lon, type, priority, description",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    as_user: AsUser = None,
    open_incidents: Annotated[bool, typer.Option("--open", help="import as open incidents (live replay)")] = False,
) -> None:
    """Import calls (one incident each). Every row is checked first; a call_id already stored is skipped."""
    from precinct.calls.flows import import_calls
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, INTAKE, resource="calls.import")
    with progress_bar() as bar:
        task = bar.add_task("importing calls", total=None)
        summary = import_calls(
            db,
            file,
            actor=principal.username,
            role=principal.role.value,
            open_incidents=open_incidents,
            progress=lambda n: bar.advance(task, n),
        )
    emit_json({"read": summary.read, "imported": summary.imported, "skipped_existing": summary.skipped_existing})


@app.command("types")
def types_cmd(fmt: FormatOpt = "table") -> None:
    """The incident-type code table with five-colour priorities and response plans."""
    rows = type_table()
    if fmt == "json":
        emit_json(rows)
        return
    for r in rows:
        plan = " ".join(f"{p['unit_type']}×{p['count']}" for p in r["response_plan"])  # type: ignore[attr-defined]
        typer.echo(f"{r['code']:<18} {r['priority']:<7} {r['name_zh']}\t{r['name_en']}\t{plan}")


@incidents_app.command("list")
def list_cmd(
    as_user: AsUser = None, open_only: Annotated[bool, typer.Option("--open")] = False, limit: int = 50
) -> None:
    """Recent incidents as JSON (caller numbers are never shown here)."""
    from precinct.calls.paging import incidents_page
    from precinct.calls.service import incident_view
    from precinct.core.access import cli_principal

    db = open_db()
    cli_principal(db, as_user, (*COMMAND, Role.call_taker, Role.analyst), resource="incidents.list")
    with db.sessionmaker() as s:
        rows, _ = incidents_page(s, open_only=open_only, limit=limit)
        emit_json([incident_view(i) for i in rows])


@incidents_app.command("export-eido")
def export_cmd(
    incident_id: Annotated[str, typer.Argument(help="incident id")],
    as_user: AsUser = None,
    out: Annotated[Path | None, typer.Option("--out", help="write here instead of stdout")] = None,
    agency: Annotated[str, typer.Option(help="this centre's agency identifier")] = DEFAULT_AGENCY,
) -> None:
    """Export an incident as a NENA EIDO document (validated against the schema)."""
    from precinct.calls import eido
    from precinct.core.access import cli_principal
    from precinct.errors import BadInput

    db = open_db()
    principal = cli_principal(db, as_user, COMMAND, resource="incidents.eido")
    with db.sessionmaker() as s:
        doc = eido.export_incident(s, incident_id=incident_id, actor=principal.username, agency=agency)
    errors = eido.validate(doc)
    if errors:
        raise BadInput("the export does not validate against the EIDO schema", detail=errors[:10])
    if out is None:
        emit_json(doc)
    else:
        out.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        err_console.print(f"wrote {out}")


@incidents_app.command("import-eido")
def import_cmd_eido(
    file: Annotated[Path, typer.Argument(help="EIDO JSON document", exists=True, dir_okay=False)],
    as_user: AsUser = None,
) -> None:
    """Import an incident from a NENA EIDO document (again: no change)."""
    from precinct.calls import eido
    from precinct.core.access import cli_principal
    from precinct.errors import BadInput

    db = open_db()
    principal = cli_principal(db, as_user, COMMAND, resource="incidents.eido")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BadInput(f"{file}: not JSON: {exc}", detail={"field": "file", "reason": "json"}) from None
    with db.session() as s:
        result = eido.import_document(s, document, actor=principal.username, role=principal.role.value)
    emit_json({"incident_id": result.incident_id, "created": result.created, "warnings": result.warnings})


def register(root: typer.Typer) -> None:
    """Mount ``precinct incidents`` beside ``precinct calls``."""
    root.add_typer(incidents_app, name="incidents")
