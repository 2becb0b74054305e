"""``precinct units``: add, import and list dispatchable units."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from precinct.calls.types import UnitType
from precinct.core.clikit import AsUser, emit_json, open_db
from precinct.core.roles import Role

CLI_NAME = "units"
app = typer.Typer(help="Dispatchable units (patrol cars, special police, traffic, ...).", no_args_is_help=True)
MANAGERS = (Role.dispatcher, Role.supervisor, Role.admin)


@app.command("add")
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
    from precinct.core.access import cli_principal
    from precinct.dispatch.service import unit_view, upsert_unit

    db = open_db()
    cli_principal(db, as_user, MANAGERS, resource="units")
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


@app.command("import")
def import_units(
    file: Annotated[
        Path, typer.Argument(help="CSV: id, unit_type, callsign, station, group, lat, lon", exists=True, dir_okay=False)
    ],
    as_user: AsUser = None,
) -> None:
    """Create or update units from a CSV (all rows or none)."""
    from precinct.core.access import cli_principal
    from precinct.dispatch.service import upsert_unit
    from precinct.errors import BadInput

    db = open_db()
    cli_principal(db, as_user, MANAGERS, resource="units")
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


@app.command("list")
def list_cmd(as_user: AsUser = None, status: str | None = None) -> None:
    """Units with status and latest position (JSON)."""
    from precinct.core.access import cli_principal
    from precinct.dispatch.service import list_units, unit_view

    db = open_db()
    cli_principal(db, as_user, (*MANAGERS, Role.call_taker, Role.patrol), resource="units")
    with db.sessionmaker() as s:
        emit_json([unit_view(u) for u in list_units(s, status=status)])
