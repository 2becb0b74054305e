"""`precinct backup create` / `restore`: a restored installation has the same data and passes verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from precinct.core import audit
from precinct.core.db import Database
from precinct.core.warehouse import Warehouse


def _fill(db: Database, n: int) -> None:
    for i in range(n):
        with db.session() as s:
            audit.append(s, actor="analyst1", role="analyst", action="consultation", resource="anpr.reads",
                         params={"plate": f"苏M{i:05d}"}, result_count=i, case_id="CASE-1", purpose="investigation")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "precinct", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_backup_then_restore_elsewhere_passes_audit_verify(engine: str, tmp_path: Path,
                                                           request: pytest.FixtureRequest) -> None:
    if engine == "sqlite":
        src_url = f"sqlite:///{tmp_path / 'a' / 'precinct.db'}"
        dst_url = f"sqlite:///{tmp_path / 'b' / 'precinct.db'}"
    else:
        src_url = request.getfixturevalue("pg_url")
        admin = create_engine(src_url, isolation_level="AUTOCOMMIT")
        name = f"{make_url(src_url).database}_restored"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        dst_url = make_url(src_url).set(database=name).render_as_string(hide_password=False)
        request.addfinalizer(lambda: _drop(src_url, name))
    src = {"PRECINCT_DATA_DIR": str(tmp_path / "a"), "PRECINCT_DATABASE_URL": src_url}
    dst = {"PRECINCT_DATA_DIR": str(tmp_path / "b"), "PRECINCT_DATABASE_URL": dst_url}
    db = Database(src_url)
    db.migrate()
    _fill(db, 7)
    wh = Warehouse(tmp_path / "a" / "warehouse" / "precinct.duckdb")
    wh.execute_script("CREATE TABLE reads AS SELECT range AS rid, 'SUM' || range AS plate FROM range(1000)")
    wh.close()
    db.dispose()

    made = _cli(src, "backup", "create", str(tmp_path / "bk"), "--format", "json")
    assert made.returncode == 0, made.stderr
    manifest = json.loads(made.stdout)
    assert manifest["audit_head"]["seq"] == 7 and manifest["warehouse"]
    restored = _cli(dst, "backup", "restore", str(tmp_path / "bk"), "--format", "json")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert json.loads(restored.stdout)["anchor"]["checkpoints"] == 1
    verified = _cli(dst, "audit", "verify")
    assert verified.returncode == 0 and "7 records" in verified.stdout

    copy = Database(dst_url)
    assert audit.verify(copy.engine).checked == 7
    copy.dispose()
    wh2 = Warehouse(tmp_path / "b" / "warehouse" / "precinct.duckdb")
    assert wh2.query("SELECT count(*), sum(rid) FROM reads") == [(1000, 499500)]
    wh2.close()

    # the restore refuses to overwrite a non-empty installation unless told to
    again = _cli(dst, "backup", "restore", str(tmp_path / "bk"))
    assert again.returncode != 0 and "not empty" in again.stderr


def _drop(url: str, name: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_damaged_backup_is_refused(tmp_path: Path) -> None:
    env = {"PRECINCT_DATA_DIR": str(tmp_path / "a"), "PRECINCT_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    assert _cli(env, "backup", "create", str(tmp_path / "bk")).returncode == 0
    (tmp_path / "bk" / "database.sqlite").write_bytes(b"garbage")
    out = {"PRECINCT_DATA_DIR": str(tmp_path / "b"), "PRECINCT_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"}
    bad = _cli(out, "backup", "restore", str(tmp_path / "bk"))
    assert bad.returncode != 0 and "damaged" in bad.stderr
