"""CLI: ``precinct calls import`` (all rows checked first, idempotent), ``precinct incidents``."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from precinct.cli import app as cli
from precinct.command.models import Call, Incident
from precinct.core.db import Database
from precinct.core.identity import create_user

CSV = """call_id,ts,lat,lon,type,priority,description
J1,2026-03-02T00:01:13+08:00,32.474341,119.942303,drunk,yellow,醉汉躺在路中间
J2,2026-03-02T00:02:29+08:00,32.496264,119.917969,assistance,,钥匙丢失求助
J3,2026-03-02T00:03:00Z,32.49,119.92,Fight,red,
"""


def test_calls_import_and_eido_cli(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        create_user(s, username="ct", role="call_taker", password="test-password-123")
        create_user(s, username="disp", role="dispatcher", password="test-password-123")
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "J4,2026-03-02T00:04:00+08:00,132.0,119.9,theft,,\n", encoding="utf-8")
    r = runner.invoke(cli, ["calls", "import", str(bad), "--as", "ct"], standalone_mode=False)
    assert r.exception is not None and "line 5: lat" in str(r.exception)
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 0  # nothing written
    good = tmp_path / "calls.csv"
    good.write_text(CSV, encoding="utf-8")
    r = runner.invoke(cli, ["calls", "import", str(good), "--as", "ct"])
    assert r.exit_code == 0, r.output
    assert '"imported": 3' in r.output
    r = runner.invoke(cli, ["calls", "import", str(good), "--as", "ct"])
    assert '"imported": 0' in r.output and '"skipped_existing": 3' in r.output
    with db.sessionmaker() as s:
        incs = s.scalars(select(Incident).order_by(Incident.created_at)).all()
        assert [i.type for i in incs] == ["drunk", "assistance", "fight"]
        assert [i.priority for i in incs] == ["yellow", "green", "red"]
        assert {i.status for i in incs} == {"closed"}
        iid = incs[0].id
    r = runner.invoke(cli, ["incidents", "export-eido", iid, "--as", "disp", "--out", str(tmp_path / "e.json")])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert doc["incidentComponent"]["internalIncidentId"] == iid
    sample = Path(__file__).resolve().parent / "fixtures" / "Sample_EIDO.json"
    r = runner.invoke(cli, ["incidents", "import-eido", str(sample), "--as", "disp"])
    assert r.exit_code == 0 and '"created": true' in r.output, r.output
    r = runner.invoke(cli, ["calls", "types", "--format", "json"])
    assert r.exit_code == 0 and "armed_robbery" in r.output
