"""Signed checkpoints outside the database catch a wholesale rewrite that the chain alone cannot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from precinct.config import Settings
from precinct.core import anchor, audit
from precinct.core.db import Database
from precinct.errors import Conflict


def fill(db: Database, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with db.session() as s:
            audit.append(s, actor=f"user{i % 3}", role="analyst", action="consultation",
                         resource="anpr.reads", params={"plate": f"苏M{i:05d}"}, result_count=i,
                         case_id=f"CASE-{i}", purpose="investigation")


def rewrite_from(db: Database, seq: int, actor: str) -> None:
    """What a privileged attacker would do: change record ``seq`` and recompute every hash after it
    (and the head), so that the chain is again self-consistent."""
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = :a WHERE seq = :s"), {"a": actor, "s": seq})
        rows = conn.execute(text(f"SELECT {', '.join(audit.HASHED_FIELDS)} FROM audit_log "
                                 "WHERE seq >= :s ORDER BY seq"), {"s": seq}).mappings().all()
        prev = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": seq - 1}).scalar()
        for row in rows:
            values = dict(row, prev_hash=prev)
            new = audit.record_hash(values[f] for f in audit.HASHED_FIELDS)
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"p": prev, "h": new, "s": row["seq"]})
            prev = new
        conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})


def test_rewritten_log_passes_the_chain_but_not_the_checkpoint(any_db: Database, settings: Settings) -> None:
    fill(any_db, 10)
    first = anchor.write_checkpoint(any_db.engine, settings)
    fill(any_db, 5, start=10)
    second = anchor.write_checkpoint(any_db.engine, settings)
    assert (first["seq"], second["seq"]) == (10, 15)
    assert anchor.check(any_db.engine, settings).ok
    rewrite_from(any_db, 4, "mallory")
    assert audit.verify(any_db.engine).ok  # the chain alone is fooled
    result = anchor.check(any_db.engine, settings)
    assert not result.ok and "record 10 differs" in (result.reason or "")


def test_truncated_and_regrown_log_is_caught(db: Database, settings: Settings) -> None:
    fill(db, 8)
    anchor.write_checkpoint(db.engine, settings)
    with db.engine.begin() as conn:  # drop the tail, then let the head say so
        conn.execute(text("DELETE FROM audit_log WHERE seq > 5"))
        h = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 5")).scalar()
        conn.execute(text("UPDATE audit_head SET seq = 5, hash = :h WHERE id = 1"), {"h": h})
    assert audit.verify(db.engine).ok
    result = anchor.check(db.engine, settings)
    assert not result.ok and "ends at record 5" in (result.reason or "")


def test_a_broken_chain_is_never_anchored(db: Database, settings: Settings) -> None:
    fill(db, 4)
    anchor.write_checkpoint(db.engine, settings)
    fill(db, 3, start=4)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 6"))
    with pytest.raises(Conflict, match="record 6"):
        anchor.write_checkpoint(db.engine, settings)
    assert len(anchor.read_checkpoints(settings)[0]) == 1


@pytest.mark.parametrize("damage", ["edit", "drop-middle", "other-key"])
def test_damaged_checkpoint_files_are_reported(db: Database, settings: Settings, damage: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        fill(db, 2, start=2 * i)
        anchor.write_checkpoint(db.engine, settings)
    path = next(settings.anchor_dir.glob(anchor.GLOB))
    lines = path.read_text().splitlines()
    if damage == "edit":
        entry = json.loads(lines[1])
        entry["seq"] = 3
        lines[1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
        expected = "signature does not match"
    elif damage == "drop-middle":
        del lines[1]
        expected = "does not follow the previous checkpoint"
    else:
        monkeypatch.setattr(settings, "secret_key", type(settings.secret_key)("another-secret-key-of-32-chars-ok!"))
        expected = "signed with another key"
    path.write_text("\n".join(lines) + "\n")
    result = anchor.check(db.engine, settings)
    assert not result.ok and expected in (result.reason or "")


def test_cli_checkpoint_then_verify_catches_a_rewrite(db: Database, settings: Settings, tmp_path: Path) -> None:
    fill(db, 6)
    env = {"PRECINCT_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin", "PRECINCT_DATABASE_URL": db.url,
           "PRECINCT_AUDIT_ANCHOR_DIR": str(tmp_path / "anchors")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "precinct", "audit", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    done = cli("checkpoint", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["seq"] == 6
    assert list((tmp_path / "anchors").glob(anchor.GLOB))
    ok = cli("verify", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["anchor"]["checkpoints"] == 1
    rewrite_from(db, 2, "mallory")
    bad = cli("verify")
    assert bad.returncode == 1 and "rewritten" in bad.stderr


def test_the_leader_writes_checkpoints_periodically(db: Database, settings: Settings) -> None:
    import asyncio

    from precinct.core.jobs import JobRunner

    fill(db, 3)

    async def run() -> int:
        runner = JobRunner(db, tick_s=0.02)
        runner.add("audit.checkpoint", lambda: anchor.write_checkpoint(db.engine, settings), 0.05)
        runner.start()
        while runner.runs.get("audit.checkpoint", 0) < 3:
            await asyncio.sleep(0.02)
        await runner.stop()
        return runner.runs["audit.checkpoint"]

    runs = asyncio.run(asyncio.wait_for(run(), 20))
    cps, problem = anchor.read_checkpoints(settings)
    assert problem is None and len(cps) == runs and {cp.seq for cp in cps} == {3}
    assert anchor.check(db.engine, settings).ok
