"""Backup and restore of one installation: the operations database, the warehouse, the checkpoints.

A backup is a directory::

    manifest.json          what, when, the audit head, and the SHA-256 of every file below
    database.sqlite        SQLite: an online copy through SQLite's backup API
    database.pgdump        PostgreSQL: ``pg_dump --format=custom`` (restored with ``pg_restore``)
    warehouse.duckdb       the DuckDB warehouse, copied table by table (``COPY FROM DATABASE``)
    anchors/               the signed audit checkpoint files

``create`` first writes a fresh audit checkpoint, so the backup's own checkpoints anchor the head
it contains and a restored installation passes ``precinct audit verify``. The database copy is
online (the API keeps running). DuckDB admits one process: the warehouse is copied when this
process can open it, i.e. while no server holds it (stop the warehouse worker for the minute the
copy takes, or pass ``include_warehouse=False`` and snapshot its file system instead).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from precinct import __version__
from precinct.config import Settings
from precinct.core import anchor
from precinct.core.db import Database
from precinct.errors import BadInput, Conflict, NotReady

MANIFEST = "manifest.json"
FORMAT = 1


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pg_env(url: str) -> tuple[dict[str, str], str]:
    """libpq environment (password not on the command line) and the database name."""
    u = make_url(url)
    env = dict(os.environ)
    for key, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password)):
        if value is not None:
            env[key] = str(value)
    return env, str(u.database)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise NotReady(f"{cmd[0]} is not installed (PostgreSQL client tools are needed for backup and restore)")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Conflict(f"{cmd[0]} failed", detail={"stderr": done.stderr.strip()[-2000:]})


def _warehouse_path(settings: Settings) -> Path:
    return (settings.data_dir / "warehouse" / "precinct.duckdb").resolve()


def create(*, settings: Settings, db: Database, out_dir: Path, include_warehouse: bool = True) -> dict[str, Any]:
    """Write a backup of this installation into the new or empty directory ``out_dir``.

    Returns the manifest.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise BadInput(f"backup directory {out_dir} is not empty", detail={"field": "DIR"})
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = anchor.write_checkpoint(db.engine, settings)
    files: list[str] = []
    if db.dialect == "sqlite":
        source = make_url(db.url).database
        if not source or source == ":memory:":
            raise BadInput("an in-memory database cannot be backed up")
        src, dst = sqlite3.connect(source), sqlite3.connect(out_dir / "database.sqlite")
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        files.append("database.sqlite")
    else:
        env, name = _pg_env(db.url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--file={out_dir / 'database.pgdump'}", name], env)
        files.append("database.pgdump")
    if include_warehouse and _warehouse_path(settings).exists():
        _copy_warehouse(settings, out_dir / "warehouse.duckdb")
        files.append("warehouse.duckdb")
    anchors = out_dir / "anchors"
    anchors.mkdir()
    for path in sorted(settings.anchor_dir.glob(anchor.GLOB)):
        shutil.copy2(path, anchors / path.name)
        files.append(f"anchors/{path.name}")
    manifest = {
        "format": FORMAT, "precinct": __version__, "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "database": db.dialect, "audit_head": {"seq": checkpoint["seq"], "hash": checkpoint["hash"]},
        "warehouse": "warehouse.duckdb" in files,
        "files": {name: {"sha256": _sha256(out_dir / name), "bytes": (out_dir / name).stat().st_size}
                  for name in files},
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def _copy_warehouse(settings: Settings, target: Path) -> None:
    from precinct.core.warehouse import _REGISTRY, Warehouse

    opened_here = _warehouse_path(settings) in _REGISTRY
    try:
        wh = Warehouse.for_settings(settings)
    except NotReady as exc:
        raise NotReady("the warehouse is held by a running server; stop the warehouse worker for the copy, "
                       "or back up without it (--no-warehouse) and snapshot its file system",
                       detail=exc.detail) from exc
    try:
        wh.checkpoint()
        name = wh.query("SELECT current_database()")[0][0]
        quoted = str(target).replace("'", "''")
        wh.execute_script(f"ATTACH '{quoted}' AS precinct_backup; "
                          f'COPY FROM DATABASE "{name}" TO precinct_backup; DETACH precinct_backup;')
    finally:
        if not opened_here:
            Warehouse.close_for(settings)


def read_manifest(in_dir: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every file's SHA-256 against it."""
    path = Path(in_dir) / MANIFEST
    if not path.is_file():
        raise BadInput(f"{in_dir} is not a Precinct backup (no {MANIFEST})", detail={"field": "DIR"})
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BadInput(f"backup format {manifest.get('format')} is not {FORMAT}")
    for name, meta in manifest["files"].items():
        file = Path(in_dir) / name
        if not file.is_file() or _sha256(file) != meta["sha256"]:
            raise Conflict(f"backup file {name} is missing or damaged (SHA-256 differs from the manifest)",
                           detail={"file": str(file)})
    return manifest


def restore(*, settings: Settings, db: Database, in_dir: Path, force: bool = False) -> dict[str, Any]:
    """Restore a backup into this installation's (empty, unless ``force``) database and data dir.

    Returns the manifest. Run ``precinct audit verify`` afterwards (the CLI does).
    """
    in_dir = Path(in_dir)
    manifest = read_manifest(in_dir)
    if manifest["database"] != db.dialect:
        raise BadInput(f"the backup is of a {manifest['database']} database; this installation uses {db.dialect}")
    with db.engine.connect() as conn:
        tables = db.engine.dialect.get_table_names(conn)
    if tables and not force:
        raise Conflict("the target database is not empty; pass --force to replace its contents",
                       detail={"tables": len(tables)})
    wh_target = _warehouse_path(settings)
    if manifest["warehouse"] and wh_target.exists() and not force:
        raise Conflict(f"a warehouse exists at {wh_target}; pass --force to replace it")
    if db.dialect == "sqlite":
        target = make_url(db.url).database
        db.dispose()
        src, dst = sqlite3.connect(in_dir / "database.sqlite"), sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        env, name = _pg_env(db.url)
        db.dispose()
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              f"--dbname={name}", str(in_dir / "database.pgdump")], env)
    if manifest["warehouse"]:
        from precinct.core.warehouse import Warehouse

        Warehouse.close_for(settings)
        wh_target.parent.mkdir(parents=True, exist_ok=True)
        for stale in (wh_target, wh_target.with_name(wh_target.name + ".wal")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(in_dir / "warehouse.duckdb", wh_target)
    _restore_anchors(settings, in_dir / "anchors")
    return manifest


def _restore_anchors(settings: Settings, source: Path) -> None:
    """Bring the backup's checkpoint files back; a file already there is kept when it extends the
    backup's (the checkpoints written since), replaced when it is a prefix of it."""
    target = settings.anchor_dir
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob(anchor.GLOB)):
        mine = target / path.name
        theirs = path.read_bytes()
        if mine.exists():
            have = mine.read_bytes()
            if have.startswith(theirs):
                continue
            if not theirs.startswith(have):
                raise Conflict(f"checkpoint file {mine} differs from the backup's; keep both and compare by hand")
        shutil.copy2(path, mine)
