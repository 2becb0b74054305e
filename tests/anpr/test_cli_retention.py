"""CLI commands (import counts, associate/series JSON formats, access) and retention."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from precinct.anpr import retention, service
from precinct.cli import app as root
from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.models import AuditRecord
from precinct.core.warehouse import Warehouse
from precinct.errors import BadInput, Forbidden
from support import ensure_test_case

from .conftest import DAY_US, T0_US, ingest_rows, iso, random_reads, to_csv

runner = CliRunner()


def _user(db: Database, role: str) -> str:
    name = f"cli_{role}"
    with db.session() as s:
        create_user(s, username=name, role=role, password="cli-password-1")
    for case in ("C-1", "OPS-2"):  # the cases these tests read under: open, with the user on them
        ensure_test_case(db, case, name)
    return name


def _audits(db: Database, **where: Any) -> list[AuditRecord]:
    with db.sessionmaker() as s:
        q = select(AuditRecord).order_by(AuditRecord.seq)
        for k, v in where.items():
            q = q.where(getattr(AuditRecord, k) == v)
        return list(s.scalars(q))


def test_import_prints_counts_and_rejects(db: Database, settings: Settings, tmp_path: Path) -> None:
    admin = _user(db, "admin")
    rows = random_reads(50, seed=4)
    body = to_csv(rows).decode() + "苏E1,not-a-time,31,120,,,,\n"
    p = tmp_path / "reads.csv"
    p.write_text(body, encoding="utf-8")
    r = runner.invoke(root, ["anpr", "import", str(p), "--as", admin])
    assert r.exit_code == 0, r.output
    assert "stored 50, duplicate 0, rejected 1" in r.output and "line 52: ts" in r.output
    r = runner.invoke(root, ["anpr", "import", str(p), "--as", admin, "--format", "json"])
    out = json.loads(r.output)
    assert (out["stored"], out["duplicates"], out["rejected"]) == (0, 50, 1)
    assert len(_audits(db, action="collection", resource="anpr.reads")) == 2


def test_associate_and_series_json(
    db: Database, settings: Settings, tmp_path: Path, wh: Warehouse
) -> None:
    analyst = _user(db, "analyst")
    rows = random_reads(800, seed=8, days=2)
    ingest_rows(db, wh, rows)
    wl = tmp_path / "watch.csv"
    wl.write_text(f"plate,reason,list\n{rows[0]['plate']},prior,offenders\n", encoding="utf-8")
    args = [
        "anpr",
        "associate",
        "--lat",
        str(rows[0]["lat"]),
        "--lon",
        str(rows[0]["lon"]),
        "--radius-km",
        "5",
        "--start",
        iso(T0_US),
        "--end",
        iso(T0_US + 2 * DAY_US),
        "--watchlist",
        str(wl),
        "--as",
        analyst,
        "--format",
        "json",
    ]
    r = runner.invoke(root, args)
    assert isinstance(r.exception, Forbidden), "no case or purpose: refused"
    r = runner.invoke(root, [*args, "--case", "C-1", "--purpose", "investigation"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["scanned_reads"] > 0
    c = out["candidates"][0]
    assert c["plate"] == rows[0]["plate"] and c["on_watchlist"] is True
    assert set(c) >= {
        "plate",
        "reads",
        "first_seen",
        "last_seen",
        "min_distance_km",
        "on_watchlist",
        "score",
    }
    rec = _audits(db, resource="anpr.associate", outcome="ok")
    assert (
        len(rec) == 1 and rec[0].case_id == "C-1" and rec[0].result_count == len(out["candidates"])
    )
    assert len(_audits(db, resource="anpr.associate", outcome="refused")) == 1
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "case_id,lat,lon,start,end,radius_km\n"
        f"A,{rows[0]['lat']},{rows[0]['lon']},{iso(T0_US)},{iso(T0_US + DAY_US)},3\n"
        f"B,{rows[1]['lat']},{rows[1]['lon']},{iso(T0_US + DAY_US)},{iso(T0_US + 2 * DAY_US)},3\n",
        encoding="utf-8",
    )
    r = runner.invoke(
        root,
        [
            "anpr",
            "series",
            "--cases",
            str(cases),
            "--min-cases",
            "2",
            "--as",
            analyst,
            "--case",
            "C-1",
            "--purpose",
            "investigation",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert all(set(c["cases"]) == {"A", "B"} for c in out["candidates"])
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "case_id,lat,lon,start,end\nA,31,120,2026-03-01,2026-03-02T00:00:00Z\n", encoding="utf-8"
    )
    r = runner.invoke(
        root,
        [
            "anpr",
            "series",
            "--cases",
            str(bad),
            "--as",
            analyst,
            "--case",
            "C-1",
            "--purpose",
            "investigation",
        ],
    )
    assert isinstance(r.exception, BadInput) and "line 2" in str(r.exception)


def test_retention_erases_old_reads_but_keeps_hits_and_pins(
    db: Database, settings: Settings, wh: Warehouse
) -> None:
    service.add_hotlist(db, [{"plate": "HOT1", "reason": "stolen"}], actor="t", role="admin")
    now = dt.datetime.fromtimestamp(T0_US / 1e6, dt.UTC) + dt.timedelta(days=400)
    rows = [
        {"plate": "OLD1", "ts": iso(T0_US), "lat": 31.0, "lon": 120.0, "read_id": "o1"},
        {"plate": "OLD2", "ts": iso(T0_US + 1), "lat": 31.0, "lon": 120.0, "read_id": "o2"},
        {"plate": "HOT1", "ts": iso(T0_US + 2), "lat": 31.0, "lon": 120.0, "read_id": "o3"},
        {
            "plate": "NEW1",
            "ts": iso(T0_US + 200 * DAY_US),
            "lat": 31.0,
            "lon": 120.0,
            "read_id": "n1",
        },
    ]
    ingest_rows(db, wh, rows)
    rid_old2 = wh.query("SELECT rid FROM anpr_reads WHERE plate = 'OLD2'")[0][0]
    service.pin_reads(
        db, case_id="CASE-R", rids=[rid_old2], actor="t", role="analyst", purpose="investigation"
    )
    out = retention.run(db=db, settings=settings, now=now, actor="retention")
    assert out[0] == {"resource": "anpr.reads", "erased": 1, "kept": 2, "cutoff": out[0]["cutoff"]}
    assert sorted(r[0] for r in wh.query("SELECT plate FROM anpr_reads")) == [
        "HOT1",
        "NEW1",
        "OLD2",
    ]
    rec = _audits(db, action="erasure", resource="anpr.reads")
    assert len(rec) == 1 and rec[0].result_count == 1


def test_retention_rolls_back_if_audit_fails(
    db: Database, settings: Settings, wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_rows(db, wh, [{"plate": "OLD1", "ts": iso(T0_US), "lat": 31.0, "lon": 120.0}])
    from precinct.core import audit
    from precinct.errors import AuditFailure

    def boom(*_a: Any, **_k: Any) -> None:
        raise AuditFailure("no audit")

    monkeypatch.setattr(audit, "append", boom)
    with pytest.raises(AuditFailure):
        retention.run(
            db=db, settings=settings, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), actor="r"
        )
    assert wh.query("SELECT count(*) FROM anpr_reads")[0][0] == 1


def test_retention_is_discovered_by_the_retention_command() -> None:
    from precinct.domains import domain_modules

    assert retention in domain_modules("retention")


def test_hotlist_cli_and_camera_positions(
    db: Database, settings: Settings, tmp_path: Path, wh: Warehouse
) -> None:
    analyst, admin = _user(db, "analyst"), _user(db, "admin")
    r = runner.invoke(
        root, ["anpr", "hotlist", "add", "苏a-77777", "--reason", "wanted", "--as", analyst]
    )
    assert r.exit_code == 0, r.output
    cams = tmp_path / "cams.csv"
    cams.write_text("camera_id,lat,lon,name\nK1,31.5,120.5,North gate\n", encoding="utf-8")
    assert (
        runner.invoke(root, ["anpr", "cameras", "import", str(cams), "--as", admin]).exit_code == 0
    )
    reads = tmp_path / "r.csv"
    reads.write_text(
        f"plate,ts,camera_id\n苏A77777,{iso(T0_US)},K1\n苏A1,{iso(T0_US)},K2\n", encoding="utf-8"
    )
    r = runner.invoke(root, ["anpr", "import", str(reads), "--as", admin, "--format", "json"])
    out = json.loads(r.output)
    assert (out["stored"], out["rejected"], out["alerts"]) == (1, 1, 1)
    assert out["rejects"][0]["line"] == 3
    assert wh.query("SELECT lat, lon FROM anpr_reads")[0] == (31.5, 120.5)
    r = runner.invoke(root, ["anpr", "hotlist", "list", "--as", analyst])
    assert isinstance(r.exception, Forbidden)
    r = runner.invoke(
        root,
        [
            "anpr",
            "hotlist",
            "list",
            "--as",
            analyst,
            "--case",
            "OPS-2",
            "--purpose",
            "hotlist_alert",
            "--format",
            "json",
        ],
    )
    assert json.loads(r.output)["entries"][0]["plate"] == "苏A77777"


def test_alert_names_nearest_available_units_by_travel_time(db: Database, settings: Settings) -> None:
    from sqlalchemy import inspect, text

    if not inspect(db.engine).has_table("units"):
        pytest.skip("dispatch's units table is not in this tree")
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        for uid, lat, lon, status in (("U-NEAR", 32.490, 119.921, "available"),
                                      ("U-FAR", 32.530, 119.960, "available"),
                                      ("U-BUSY", 32.4901, 119.9201, "busy")):
            s.execute(text(
                "INSERT INTO units (id, callsign, unit_type, status, lat, lon, active, updated_at) "
                "VALUES (:id, :id, 'car', :st, :lat, :lon, :a, :now)"),
                {"id": uid, "st": status, "lat": lat, "lon": lon, "a": True, "now": now})
    units = service.nearest_units(db, settings, 32.4905, 119.9205, k=3)
    assert [u["unit_id"] for u in units] == ["U-NEAR", "U-FAR"]
    assert units[0]["travel_time_s"] < units[1]["travel_time_s"]


def test_compact_command_rewrites_every_day(db: Database, settings: Settings, tmp_path: Path) -> None:
    admin = _user(db, "admin")
    rows = random_reads(300, seed=16, days=3)
    p = tmp_path / "reads.csv"
    p.write_text(to_csv(rows).decode(), encoding="utf-8")
    assert runner.invoke(root, ["anpr", "import", str(p), "--as", admin]).exit_code == 0
    r = runner.invoke(root, ["anpr", "compact", "--as", admin])
    assert r.exit_code == 0, r.output
    assert "compacted 300 reads" in r.output
    r = runner.invoke(root, ["anpr", "compact", "--as", _user(db, "dispatcher")])
    assert r.exit_code != 0, "only an administrator compacts"
