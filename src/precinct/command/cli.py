"""The command domain's commands, under their established names.

``precinct calls`` (import, types), ``precinct incidents`` (list, export-eido, import-eido),
``precinct units`` (add, import, list) and ``precinct orders`` (create, list, escalate). ``app`` is
``precinct calls``; :func:`register` mounts the other three groups beside it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from precinct.command.types import Priority, UnitType, type_table
from precinct.core.clikit import AsUser, FormatOpt, emit_json, err_console, open_db, progress_bar

CLI_NAME = "calls"
DEFAULT_AGENCY = "precinct.police.local"  # command.eido.DEFAULT_AGENCY (not imported: keeps --help fast)
app = typer.Typer(help="110 call intake: import calls, list incident types.", no_args_is_help=True)
incidents_app = typer.Typer(help="Incidents: list, export and import NENA EIDO.", no_args_is_help=True)
units_app = typer.Typer(help="Dispatchable units (patrol cars, special police, traffic, ...).", no_args_is_help=True)
orders_app = typer.Typer(help="One-click orders (一键下达) and their 研交办督结 loop.", no_args_is_help=True)


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
    from precinct.command.flows import import_calls
    from precinct.core.access import cli_principal

    db = open_db()
    principal = cli_principal(db, as_user, "calls.import")
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
    from precinct.command.incidents import incident_view
    from precinct.command.paging import incidents_page
    from precinct.core.access import cli_principal

    db = open_db()
    cli_principal(db, as_user, "incidents.read")
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
    from precinct.command import eido
    from precinct.core.access import cli_principal
    from precinct.errors import BadInput

    db = open_db()
    principal = cli_principal(db, as_user, "incidents.eido")
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
    from precinct.command import eido
    from precinct.core.access import cli_principal
    from precinct.errors import BadInput

    db = open_db()
    principal = cli_principal(db, as_user, "incidents.eido")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BadInput(f"{file}: not JSON: {exc}", detail={"field": "file", "reason": "json"}) from None
    with db.session() as s:
        result = eido.import_document(s, document, actor=principal.username, role=principal.role.value)
    emit_json({"incident_id": result.incident_id, "created": result.created, "warnings": result.warnings})


# --- precinct units ----------------------------------------------------------------------------


@units_app.command("add")
def add(
    unit_id: Annotated[str, typer.Argument(help="unit id, e.g. P101")],
    unit_type: Annotated[UnitType, typer.Option("--type")] = UnitType.patrol,
    callsign: str | None = None,
    station: str | None = None,
    group: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    as_user: AsUser = None,
) -> None:
    """Create or update one unit."""
    from precinct.command.units import unit_view, upsert_unit
    from precinct.core.access import cli_principal

    db = open_db()
    cli_principal(db, as_user, "units.manage")
    with db.session() as s:
        emit_json(
            unit_view(
                upsert_unit(
                    s,
                    id=unit_id,
                    unit_type=unit_type,
                    callsign=callsign,
                    station=station,
                    group=group,
                    lat=lat,
                    lon=lon,
                )
            )
        )


@units_app.command("import")
def import_units(
    file: Annotated[
        Path, typer.Argument(help="CSV: id, unit_type, callsign, station, group, lat, lon", exists=True, dir_okay=False)
    ],
    as_user: AsUser = None,
) -> None:
    """Create or update units from a CSV (all rows or none)."""
    from precinct.command.units import upsert_unit
    from precinct.core.access import cli_principal
    from precinct.errors import BadInput

    db = open_db()
    cli_principal(db, as_user, "units.manage")
    with file.open(encoding="utf-8-sig", newline="") as fh, db.session() as s:
        n = 0
        for line, rec in enumerate(csv.DictReader(fh), start=2):
            try:
                lat = float(rec["lat"]) if rec.get("lat") else None
                lon = float(rec["lon"]) if rec.get("lon") else None
                upsert_unit(
                    s,
                    id=(rec.get("id") or "").strip(),
                    unit_type=rec.get("unit_type") or "patrol",
                    callsign=rec.get("callsign") or None,
                    station=rec.get("station") or None,
                    group=rec.get("group") or None,
                    lat=lat,
                    lon=lon,
                )
            except (ValueError, KeyError, BadInput) as exc:
                msg = exc.message if isinstance(exc, BadInput) else str(exc)
                raise BadInput(f"line {line}: {msg}", detail={"line": line}) from None
            n += 1
    emit_json({"units": n})


@units_app.command("list")
def units_list_cmd(as_user: AsUser = None, status: str | None = None) -> None:
    """Units with status and latest position (JSON)."""
    from precinct.command.units import list_units, unit_view
    from precinct.core.access import cli_principal

    db = open_db()
    cli_principal(db, as_user, "units.read")
    with db.sessionmaker() as s:
        emit_json([unit_view(u) for u in list_units(s, status=status)])


# --- precinct orders ---------------------------------------------------------------------------


@orders_app.command("create")
def create(
    title: Annotated[str, typer.Option(help="what to do")],
    recipient: Annotated[
        list[str], typer.Option("--to", help="unit:ID, station:NAME, group:NAME, user:NAME or all (repeat)")
    ],
    minutes: Annotated[float, typer.Option("--deadline-minutes", help="deadline from now")] = 15,
    body: str = "",
    priority: Priority = Priority.orange,
    incident: str | None = None,
    as_user: AsUser = None,
) -> None:
    """Issue one order to many recipients; each must acknowledge before the deadline."""
    from precinct.command.orders import create_order, order_view
    from precinct.core.access import cli_principal
    from precinct.core.db import utcnow

    db = open_db()
    principal = cli_principal(db, as_user, "orders.create")
    with db.session() as s:
        order = create_order(
            s,
            title=title,
            body=body,
            recipients=recipient,
            deadline=utcnow() + dt.timedelta(minutes=minutes),
            issued_by=principal.username,
            priority=priority,
            incident_id=incident,
        )
        emit_json(order_view(s, order))


@orders_app.command("list")
def orders_list_cmd(as_user: AsUser = None, state: str | None = None, escalated: bool | None = None) -> None:
    """Orders, newest first (JSON)."""
    from precinct.command.orders import list_orders, order_view
    from precinct.core.access import cli_principal

    db = open_db()
    cli_principal(db, as_user, "orders.read")
    with db.sessionmaker() as s:
        emit_json([order_view(s, o) for o in list_orders(s, state=state, escalated=escalated)])


@orders_app.command("escalate")
def escalate(as_user: AsUser = None) -> None:
    """Escalate overdue orders now (the API server also does this every 10 seconds)."""
    from precinct.command.monitors import run_escalation
    from precinct.core.access import cli_principal

    db = open_db()
    cli_principal(db, as_user, "orders.escalate")
    emit_json(run_escalation(db))


def register(root: typer.Typer) -> None:
    """Mount ``precinct incidents``, ``precinct units`` and ``precinct orders`` beside ``precinct calls``."""
    root.add_typer(incidents_app, name="incidents")
    root.add_typer(units_app, name="units")
    root.add_typer(orders_app, name="orders")
