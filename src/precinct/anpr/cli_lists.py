"""``precinct anpr hotlist|cameras|links``: the lists the plate-read commands work with."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from precinct.anpr.cli_common import cli_grant, cli_principal, out, service
from precinct.config import get_settings
from precinct.core.clikit import AsUser, CaseId, FormatOpt, PurposeOpt, open_db
from precinct.errors import BadInput

hotlist_app = typer.Typer(
    help="Hotlists (stolen vehicles, stolen e-bike tags, wanted vehicles).", no_args_is_help=True
)
cameras_app = typer.Typer(
    help="Readers (checkpoint cameras, tag readers) and their positions.", no_args_is_help=True
)
links_app = typer.Typer(help="Person–vehicle links.", no_args_is_help=True)


@hotlist_app.command("add")
def hotlist_add(
    plate: Annotated[str, typer.Argument()],
    reason: Annotated[str, typer.Option(help="why the vehicle is listed")],
    list_name: Annotated[
        str, typer.Option("--list", help="stolen, stolen_tag, wanted, ...")
    ] = "wanted",
    expires: Annotated[str | None, typer.Option(help="expiry, ISO 8601 with offset")] = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Add one plate or tag to a hotlist."""
    db = open_db()
    p = cli_principal(db, as_user, "anpr.hotlist.edit")
    added = service.add_hotlist(
        db,
        [{"plate": plate, "reason": reason, "list": list_name, "expires_at": expires}],
        actor=p.username,
        role=p.role.value,
    )
    out({"added": added}, format, [f"added #{a['id']} {a['plate']} ({a['list']})" for a in added])


@hotlist_app.command("import")
def hotlist_import(
    path: Annotated[Path, typer.Argument(help="watchlist CSV: plate, reason, list, expires_at")],
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Add every row of a watchlist CSV to the hotlists."""
    db = open_db()
    p = cli_principal(db, as_user, "anpr.hotlist.edit")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if "plate" not in (reader.fieldnames or []):
            raise BadInput(
                f"{path}: wrong columns: missing plate", detail={"line": 1, "field": "plate"}
            )
        added = service.add_hotlist(db, list(reader), actor=p.username, role=p.role.value)
    out({"added": len(added)}, format, [f"added {len(added)} hotlist entries"])


@hotlist_app.command("list")
def hotlist_list(
    case: CaseId = None,
    purpose: PurposeOpt = None,
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """The active hotlist entries (personal data: needs case and purpose)."""
    db = open_db()
    grant = cli_grant(
        db,
        as_user,
        "anpr.hotlist.read",
        case_id=case,
        purpose=purpose,
    )
    entries = service.list_hotlist(db)
    grant.record(result_count=len(entries))
    out(
        {"entries": entries},
        format,
        [f"#{e['id']} {e['plate']:<14} {e['list']:<10} {e['reason']}" for e in entries],
    )


@hotlist_app.command("remove")
def hotlist_remove(entry_id: Annotated[int, typer.Argument()], as_user: AsUser = None) -> None:
    """Deactivate a hotlist entry."""
    db = open_db()
    p = cli_principal(db, as_user, "anpr.hotlist.edit")
    service.remove_hotlist(db, entry_id, actor=p.username, role=p.role.value)
    typer.echo(f"removed #{entry_id}")


@cameras_app.command("import")
def cameras_import(
    path: Annotated[Path, typer.Argument(help="CSV: camera_id, lat, lon, name, kind")],
    as_user: AsUser = None,
) -> None:
    """Add or update readers and their positions."""
    db = open_db()
    p = cli_principal(db, as_user, "anpr.cameras.edit")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        n = service.upsert_cameras(
            db, list(csv.DictReader(fh)), actor=p.username, role=p.role.value
        )
    typer.echo(f"{n} cameras")


@links_app.command("import")
def links_import(
    path: Annotated[Path, typer.Argument(help="links.csv: person_id, plate, ts, source")],
    as_user: AsUser = None,
    format: FormatOpt = "table",
) -> None:
    """Import person–vehicle links (audited as a collection)."""
    settings = get_settings()
    db = open_db()
    p = cli_principal(db, as_user, "anpr.links")
    result = service.import_links(
        db=db, wh=service.warehouse(settings), path=path, actor=p.username, role=p.role.value
    )
    out(
        result,
        format,
        [
            f"stored {result['stored']}, duplicate {result['duplicates']}, "
            f"rejected {result['rejected']}"
        ]
        + [f"  line {r['line']}: {r['field']}: {r['reason']}" for r in result["rejects"][:50]],
    )
