"""``precinct warehouse``: the analytics warehouse's schema version and its upgrade.

Mounted at the root by :func:`precinct.anpr.cli.register`. Imports of DuckDB and the database stack
happen inside the commands, so ``precinct --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from precinct.core.clikit import AsUser, FormatOpt, emit_json, err_console, open_db

if TYPE_CHECKING:
    from precinct.anpr.warehouse_migrations import Status
    from precinct.config import Settings
    from precinct.core.warehouse import Warehouse

app = typer.Typer(
    help="Analytics warehouse (DuckDB): schema version and upgrades. 分析仓库：结构版本与升级。",
    no_args_is_help=True,
)


def _path(settings: Settings) -> Any:
    return settings.data_dir / "warehouse" / "precinct.duckdb"


def _open(settings: Settings, *, create: bool) -> Warehouse:
    """The warehouse of ``settings``; a throwaway empty one when the file does not exist yet and
    ``create`` is false (status never creates a warehouse)."""
    from precinct.core.warehouse import Warehouse

    if not create and not _path(settings).exists():
        return Warehouse(":memory:")
    return Warehouse.for_settings(settings)


def _table(st: Status, where: str) -> None:
    from rich.console import Console
    from rich.table import Table

    state = "current 最新" if not st.pending else f"{len(st.pending)} pending 待升级"
    if st.unversioned:
        state += "; written before versioning 旧版仓库 (adopted at 0001 on upgrade)"
    table = Table(title=f"warehouse {where}: schema version 版本 {st.version} of {st.latest} ({state})")
    for col in ("version 版本", "name 名称", "state 状态", "applied at (UTC) 时间", "by Precinct 程序版本"):
        table.add_column(col)
    for a in st.applied:
        table.add_row(f"{a.version:04d}", a.name, a.how, a.applied_at.isoformat(sep=" ", timespec="seconds"),
                      a.precinct_version)
    for m in st.pending:
        table.add_row(f"{m.version:04d}", m.name, "pending", "", "")
    Console().print(table)


@app.command("status")
def status(as_user: AsUser = None, fmt: FormatOpt = "table") -> None:
    """Show the warehouse's schema version, when each migration ran, and what is pending."""
    from precinct.anpr import warehouse_migrations
    from precinct.config import get_settings
    from precinct.core.access import cli_principal

    cli_principal(open_db(), as_user, "warehouse.manage")
    settings = get_settings()
    wh = _open(settings, create=False)
    try:
        st = warehouse_migrations.status(wh)
    finally:
        if str(wh.path) == ":memory:":
            wh.close()
    if fmt == "json":
        emit_json({"path": str(_path(settings)), **st.as_dict()})
    else:
        _table(st, str(_path(settings)))


@app.command("upgrade")
def upgrade(as_user: AsUser = None, fmt: FormatOpt = "table") -> None:
    """Apply the pending warehouse migrations, in order, one transaction each (audited)."""
    from precinct.anpr import warehouse_migrations
    from precinct.config import get_settings
    from precinct.core import audit
    from precinct.core.access import cli_principal
    from precinct.core.roles import AuditAction

    db = open_db()
    principal = cli_principal(db, as_user, "warehouse.manage")
    settings = get_settings()
    wh = _open(settings, create=True)
    before = warehouse_migrations.status(wh).version

    def say(m: warehouse_migrations.Migration) -> None:
        err_console.print(f"applying {m.version:04d} {m.name} ...")

    applied = warehouse_migrations.upgrade(wh, progress=say)
    wh.schemas.add(warehouse_migrations.MARK)
    st = warehouse_migrations.status(wh)
    if applied or before != st.version:
        with db.session() as s:
            audit.append(s, actor=principal.username, role=principal.role.value,
                         action=AuditAction.administration, resource="warehouse",
                         params={"op": "upgrade", "from": before, "to": st.version,
                                 "applied": [m.version for m in applied]},
                         result_count=len(applied))
    if fmt == "json":
        emit_json({"from": before, "applied": [{"version": m.version, "name": m.name} for m in applied],
                   **st.as_dict()})
        return
    adopted = [a for a in st.applied if a.how == "adopted" and a.version > before]
    if adopted:
        typer.echo(f"adopted a warehouse written before versioning at {adopted[0].version:04d} {adopted[0].name}")
    if applied:
        typer.echo(f"warehouse upgraded from version {before} to {st.version} "
                   f"({', '.join(f'{m.version:04d} {m.name}' for m in applied)})")
    else:
        typer.echo(f"warehouse already at version {st.version}: nothing to apply")
