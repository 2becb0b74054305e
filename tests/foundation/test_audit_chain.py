"""The hash chain catches every kind of tampering; `precinct audit verify` reports it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from precinct.core import audit
from precinct.core.db import Database

FIELDS = ["ts", "actor", "role", "action", "resource", "params", "result_count", "case_id",
          "purpose", "outcome", "prev_hash", "hash"]


def fill(db: Database, n: int = 12) -> None:
    for i in range(n):
        with db.session() as s:
            audit.append(s, actor=f"user{i % 3}", role="analyst", action="consultation",
                         resource="anpr.reads", params={"plate": f"苏M{i:05d}", "radius_km": 5},
                         result_count=i, case_id=f"CASE-{i}", purpose="investigation")


def verify_cli(db: Database, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"PRECINCT_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "PRECINCT_DATABASE_URL": db.url}
    return subprocess.run([sys.executable, "-m", "precinct", "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=120)


def test_intact_chain_verifies(any_db: Database) -> None:
    fill(any_db)
    result = audit.verify(any_db.engine)
    assert result.ok and result.checked == 12


def tampered(db: Database, how: str) -> None:
    with db.engine.begin() as conn:
        if how == "edit":
            conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 7"))
        elif how == "delete":
            conn.execute(text("DELETE FROM audit_log WHERE seq = 7"))
        elif how == "delete-boundary":
            conn.execute(text("DELETE FROM audit_log WHERE seq = 13"))


@pytest.mark.parametrize("how", ["edit", "delete", "delete-boundary"])
def test_parallel_verify_agrees_with_single_pass(db: Database, how: str) -> None:
    fill(db, 24)
    assert audit.verify(db.engine, workers=2, min_parallel=1).ok
    tampered(db, how)
    single = audit.verify(db.engine)
    parallel = audit.verify(db.engine, workers=2, min_parallel=1)
    assert not single.ok and (single.ok, single.first_bad_seq) == (parallel.ok, parallel.first_bad_seq)


@pytest.mark.parametrize("field", FIELDS)
def test_changing_one_byte_of_any_field_is_caught(db: Database, field: str) -> None:
    fill(db)
    with db.engine.begin() as conn:
        old = conn.execute(text(f"SELECT {field} FROM audit_log WHERE seq = 5")).scalar_one()
        if isinstance(old, int):
            new: object = old + 1
        else:
            new = old[:-1] + ("X" if old[-1:] != "X" else "Y")
        conn.execute(text(f"UPDATE audit_log SET {field} = :v WHERE seq = 5"), {"v": new})
    result = audit.verify(db.engine)
    assert not result.ok
    # a changed hash shows at the record itself or at the link from its successor
    assert result.first_bad_seq in (5, 6), result


def test_deleted_record_is_caught(any_db: Database) -> None:
    fill(any_db)
    with any_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 7"))
    result = audit.verify(any_db.engine)
    assert not result.ok and result.first_bad_seq == 7


def test_deleted_tail_is_caught(db: Database) -> None:
    fill(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 11"))
    result = audit.verify(db.engine)
    assert not result.ok and result.first_bad_seq == 11


def test_inserted_record_is_caught(db: Database) -> None:
    fill(db)
    with db.engine.begin() as conn:
        # make room (two steps, as the primary key is checked row by row)
        conn.execute(text("UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= 4"))
        conn.execute(text("UPDATE audit_log SET seq = -seq WHERE seq < 0"))
        row = conn.execute(text("SELECT * FROM audit_log WHERE seq = 3")).mappings().one()
        forged = dict(row) | {"seq": 4, "actor": "intruder", "prev_hash": row["hash"]}
        forged["hash"] = audit.record_hash(forged[f] for f in audit.HASHED_FIELDS)
        conn.execute(text("INSERT INTO audit_log (" + ",".join(forged) + ") VALUES (" +
                          ",".join(":" + k for k in forged) + ")"), forged)
        conn.execute(text("UPDATE audit_head SET seq = seq + 1"))
    result = audit.verify(db.engine)
    assert not result.ok and result.first_bad_seq == 5, result


def test_swapped_records_are_caught(db: Database) -> None:
    fill(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET seq = -1 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_log SET seq = 3 WHERE seq = 4"))
        conn.execute(text("UPDATE audit_log SET seq = 4 WHERE seq = -1"))
    result = audit.verify(db.engine)
    assert not result.ok and result.first_bad_seq == 3


def test_cli_exit_codes(db: Database, settings) -> None:  # type: ignore[no-untyped-def]
    fill(db, 5)
    ok = verify_cli(db, settings.data_dir)
    assert ok.returncode == 0, ok.stderr
    assert "intact: 5 records" in ok.stdout
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET params = '{}' WHERE seq = 2"))
    bad = verify_cli(db, settings.data_dir)
    assert bad.returncode == 1
    assert "record 2" in bad.stderr


def test_concurrent_appends_keep_one_chain(any_db: Database) -> None:
    """Writers racing on the head still produce a gap-free, correctly linked chain."""
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> None:
        with any_db.session() as s:
            audit.append(s, actor=f"w{i}", role="analyst", action="consultation", resource="r")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(80)))
    result = audit.verify(any_db.engine)
    assert result.ok and result.checked == 80
