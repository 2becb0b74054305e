"""``precinct fraud``: the import and clusters contracts, per-row problems, stored once, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from precinct.cli import app
from precinct.core.db import Database
from precinct.core.models import AuditRecord
from precinct.errors import BadInput, Forbidden
from precinct.fraud.models import FraudReport

from .conftest import write_reports

runner = CliRunner()

ROWS = [
    {"report_id": "F1", "ts": "2026-03-01T09:00:00+08:00", "type": "task_rebate", "loss": "1200.50",
     "phones": ["+86 138-0013-8000"], "urls": ["HTTP://Pay.Example.com/x"]},
    {"report_id": "F2", "ts": "2026-03-02T09:00:00+08:00", "type": "刷单返利", "loss": "300",
     "phones": ["13800138000"], "accounts": ["6222 0212 3456 7890"]},
    {"report_id": "F3", "ts": "2026-03-03T09:00:00+08:00", "type": "fake_investment", "loss": "99.5",
     "urls": ["pay.example.com"]},
    {"report_id": "F4", "ts": "2026-03-04T09:00:00+08:00", "type": "fake_loan", "loss": "10",
     "accounts": ["6222021234567890"]},
    {"report_id": "F5", "ts": "2026-03-05T09:00:00Z", "type": "romance_investment", "loss": "5000",
     "phones": ["13900139000"]},
]


def _clusters(user: str, case: str) -> dict[str, object]:
    r = runner.invoke(app, ["fraud", "clusters", "--as", user, "--case", case, "--purpose", "investigation",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    return dict(json.loads(r.stdout))


def test_import_then_clusters_contract(db: Database, analyst: str, fraud_case: str, tmp_path: Path) -> None:
    f = write_reports(tmp_path / "reports.csv", ROWS)
    r = runner.invoke(app, ["fraud", "import", str(f), "--as", analyst, "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["stored"], out["duplicates"], out["rejected"], out["problem_count"]) == (5, 0, 0, 0)
    got = _clusters(analyst, fraud_case)
    assert set(got) == {"clusters"}
    for c in got["clusters"]:  # type: ignore[attr-defined]
        assert set(c) == {"report_ids", "identifiers", "loss_total"}
    by_ids = {tuple(c["report_ids"]): c for c in got["clusters"]}  # type: ignore[attr-defined]
    assert set(by_ids) == {("F1", "F2", "F3", "F4"), ("F5",)}
    big = by_ids[("F1", "F2", "F3", "F4")]
    assert big["loss_total"] == 1610.0
    # ranked by how many reports each links: the phone and the site link two reports each, the account two
    assert set(big["identifiers"]) == {"+8613800138000", "example.com", "6222021234567890"}
    assert by_ids[("F5",)] == {"report_ids": ["F5"], "identifiers": ["+8613900139000"], "loss_total": 5000.0}
    with db.sessionmaker() as s:
        audit = s.scalars(select(AuditRecord).where(AuditRecord.resource == "fraud.clusters")).all()
    assert len(audit) == 1 and audit[0].case_id == fraud_case and audit[0].purpose == "investigation"


def test_reimport_stores_once(db: Database, analyst: str, fraud_case: str, tmp_path: Path) -> None:
    f = write_reports(tmp_path / "reports.csv", ROWS)
    for expected in (5, 0):
        r = runner.invoke(app, ["fraud", "import", str(f), "--as", analyst, "--case", fraud_case, "--format", "json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["stored"] == expected
    with db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(FraudReport)) == 5
    assert len(_clusters(analyst, fraud_case)["clusters"]) == 2  # type: ignore[arg-type]


def test_malformed_values_reported_per_row(db: Database, analyst: str, fraud_case: str, tmp_path: Path) -> None:
    rows = [
        {"report_id": "G1", "ts": "2026-03-01T09:00:00+08:00", "type": "task_rebate", "loss": "10",
         "phones": ["12345", "13800138000"], "accounts": ["6222abc"], "urls": ["com.cn"]},
        {"report_id": "G2", "ts": "2026-03-01 09:00", "type": "task_rebate", "loss": "10"},
        {"report_id": "G3", "ts": "2026-03-01T09:00:00+08:00", "type": "lottery", "loss": "-5"},
        {"report_id": "G1", "ts": "2026-03-01T09:00:00+08:00", "type": "task_rebate", "loss": "10"},
    ]
    f = write_reports(tmp_path / "bad.csv", rows)
    r = runner.invoke(app, ["fraud", "import", str(f), "--as", analyst, "--case", fraud_case, "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out["stored"], out["rejected"], out["duplicates"]) == (1, 2, 1)
    where = {(p["line"], p["field"]) for p in out["problems"]}
    assert {(2, "phones"), (2, "accounts"), (2, "urls"), (3, "ts"), (4, "type"), (4, "loss"), (5, "report_id")} <= where
    reasons = {(p["line"], p["field"]): p["reason"] for p in out["problems"]}
    assert "digits only" in reasons[(2, "accounts")] and "public suffix" in reasons[(2, "urls")]
    assert "offset" in reasons[(3, "ts")]
    # strict: nothing stored when anything is reported
    f2 = write_reports(tmp_path / "bad2.csv", [{**rows[0], "report_id": "H1"}])
    r = runner.invoke(app, ["fraud", "import", str(f2), "--as", analyst, "--case", fraud_case, "--strict"])
    assert isinstance(r.exception, BadInput) and r.exception.exit_code == 2
    with db.sessionmaker() as s:
        assert s.scalar(select(FraudReport.id).where(FraudReport.id == "H1")) is None


def test_header_and_access_errors(db: Database, analyst: str, fraud_case: str, tmp_path: Path) -> None:
    f = tmp_path / "nohead.csv"
    f.write_text("id,when\n1,2\n", encoding="utf-8")
    r = runner.invoke(app, ["fraud", "import", str(f), "--as", analyst])
    assert isinstance(r.exception, BadInput) and "line 1" in str(r.exception) and "report_id" in str(r.exception)
    r = runner.invoke(app, ["fraud", "clusters", "--as", analyst, "--format", "json"])
    assert isinstance(r.exception, Forbidden)  # no case, no purpose: refused (and audited)
    r = runner.invoke(app, ["fraud", "clusters", "--as", analyst, "--case", "NO-SUCH-CASE", "--purpose",
                            "investigation"])
    assert isinstance(r.exception, Forbidden)
    with db.sessionmaker() as s:
        refusals = s.scalars(select(AuditRecord).where(AuditRecord.resource == "fraud.clusters",
                                                       AuditRecord.outcome == "refused")).all()
    assert len(refusals) == 2


def test_types_and_stats(db: Database, analyst: str, fraud_case: str, tmp_path: Path) -> None:
    r = runner.invoke(app, ["fraud", "types", "--as", analyst, "--format", "json"])
    codes = {t["code"]: t["zh"] for t in json.loads(r.stdout)["types"]}
    assert codes["task_rebate"] == "刷单返利" and codes["romance_investment"] == "杀猪盘"
    assert {"fake_investment", "impersonating_authorities", "fake_customer_service", "fake_loan",
            "fake_shopping"} <= set(codes)
    runner.invoke(app, ["fraud", "import", str(write_reports(tmp_path / "r.csv", ROWS)), "--as", analyst,
                        "--case", fraud_case])
    r = runner.invoke(app, ["fraud", "stats", "--as", analyst, "--format", "json"])
    assert r.exit_code == 0, r.output
    stats = json.loads(r.stdout)
    march = stats["months"][0]
    assert march["month"] == "2026-03" and march["reports"] == 5 and march["loss"] == 6610.0
    assert {t["type"]: t["reports"] for t in march["by_type"]}["task_rebate"] == 2


def test_cluster_and_requests_commands(db: Database, analyst: str, fraud_case: str, tmp_path: Path) -> None:
    from precinct.core.identity import principal_for
    from precinct.fraud import requests as rq
    from precinct.fraud.schemas import RequestIn

    runner.invoke(app, ["fraud", "import", str(write_reports(tmp_path / "r.csv", ROWS)), "--as", analyst,
                        "--case", fraud_case])
    got = _clusters(analyst, fraud_case)
    with db.sessionmaker() as s:
        cid = s.scalar(select(FraudReport.cluster_id).where(FraudReport.id == "F1"))
        p = principal_for(s, analyst)
    r = runner.invoke(app, ["fraud", "cluster", str(cid), "--as", analyst, "--case", fraud_case, "--purpose",
                            "investigation", "--format", "json"])
    assert r.exit_code == 0, r.output
    view = json.loads(r.stdout)
    assert view["report_count"] == 4 and len(got["clusters"]) == 2  # type: ignore[arg-type]
    with db.session() as s:
        rq.create_request(s, body=RequestIn(kind="freeze", account="6222 0212 3456 7890", bank="ICBC",
                                            case_id=fraud_case), principal=p)
    out = tmp_path / "send.csv"
    r = runner.invoke(app, ["fraud", "requests", "list", "--as", analyst, "--case", fraud_case, "--purpose",
                            "investigation", "--csv", str(out)])
    assert r.exit_code == 0, r.output
    assert "6222021234567890" in r.stdout and out.read_text().count("\n") == 2
