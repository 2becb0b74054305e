"""Linking against a brute-force union–find over the identities the reports were generated from.

Reports are generated from a pool of fraud identities (phones, accounts, web sites); each mention is
written in a random variant (``+86 138-0013-8000`` vs ``13800138000``, ``HTTP://Pay.Example.com/x``
vs ``pay.example.com``, spaces in account numbers, full-width digits). The reference joins reports
that share an identity, by a plain union–find written here; Precinct sees only the written
variants, normalises them, and must find the same partition — whether the reports arrive in one
file, in several, or one at a time.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.fraud import intake, service
from precinct.fraud.graph import UnionFind, cluster_keys
from precinct.fraud.linking import recount
from precinct.fraud.models import FraudCluster, FraudIdentifier, FraudReport
from precinct.fraud.schemas import IdentifierIn, ReportIn

from .conftest import write_reports

FULL = str.maketrans("0123456789", "０１２３４５６７８９")
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def phone_variant(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:7], digits[7:]
    return rng.choice([f"+86 {a}-{b}-{c}", digits, f"0086 {a} {b} {c}", f"+86{digits}".translate(FULL),
                       f"({a}) {b}{c}"])


def account_variant(rng: random.Random, digits: str) -> str:
    groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    return rng.choice([" ".join(groups), "-".join(groups), digits, digits.translate(FULL), f" {digits} "])


def url_variant(rng: random.Random, domain: str) -> str:
    sub = rng.choice(["pay", "www", "m", "Pay.Secure"])
    return rng.choice([f"HTTP://{sub}.{domain}/x".replace(domain, domain.title()), domain, f"{sub}.{domain}",
                       f"https://{sub}.{domain}:8443/login?u=1", f"{domain.upper()}/path"])


def identity_pool(rng: random.Random, n: int) -> list[tuple[str, str]]:
    pool: set[tuple[str, str]] = set()
    while len(pool) < n:
        kind = rng.choice(["phone", "account", "url"])
        if kind == "phone":
            pool.add(("phone", rng.choice(["138", "139", "150", "186", "199"]) + f"{rng.randrange(10**8):08d}"))
        elif kind == "account":
            pool.add(("account", "6222" + "".join(str(rng.randrange(10)) for _ in range(rng.choice([12, 15])))))
        else:
            pool.add(("url", f"site{rng.randrange(10**6)}.{rng.choice(['com', 'com.cn', 'net', 'top'])}"))
    return sorted(pool)


def generate(seed: int, n_reports: int, n_identities: int) -> tuple[list[dict[str, Any]], list[set[str]]]:
    """Rows to write and, per report, the identities it names (the ground truth)."""
    rng = random.Random(seed)
    pool = identity_pool(rng, n_identities)
    rows, truth = [], []
    for i in range(n_reports):
        chosen = rng.sample(pool, rng.choice([0, 1, 1, 2, 2, 3, 4]))
        row: dict[str, Any] = {"report_id": f"R{i:05d}", "ts": (T0 + dt.timedelta(hours=i)).isoformat(),
                               "type": rng.choice(["task_rebate", "刷单返利", "fake_investment", "杀猪盘"]),
                               "loss": f"{rng.randrange(0, 500000) / 100:.2f}", "accounts": [], "phones": [],
                               "urls": []}
        for kind, value in chosen:
            col = {"phone": "phones", "account": "accounts", "url": "urls"}[kind]
            make = {"phone": phone_variant, "account": account_variant, "url": url_variant}[kind]
            row[col].append(make(rng, value))
        rows.append(row)
        truth.append({f"{k}:{v}" for k, v in chosen})
    return rows, truth


def reference_partition(report_ids: list[str], truth: list[set[str]]) -> set[frozenset[str]]:
    """Brute force: a plain union–find over the reports, joining two whenever they share an identity."""
    parent = list(range(len(report_ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i in range(len(report_ids)):
        for j in range(i):
            if truth[i] & truth[j]:
                parent[find(i)] = find(j)
    groups: dict[int, set[str]] = {}
    for i, rid in enumerate(report_ids):
        groups.setdefault(find(i), set()).add(rid)
    return {frozenset(g) for g in groups.values()}


def stored_partition(db: Database) -> set[frozenset[str]]:
    with db.sessionmaker() as s:
        groups: dict[int, set[str]] = {}
        for rid, cid in s.execute(select(FraudReport.id, FraudReport.cluster_id)):
            groups.setdefault(cid, set()).add(rid)
    return {frozenset(g) for g in groups.values()}


def _import(db: Database, principal: Principal, path: Path, **kw: Any) -> dict[str, Any]:
    parsed = intake.parse_csv(path)
    with db.session() as s:
        return service.import_reports(s, parsed=parsed, principal=principal, **kw)


@pytest.mark.parametrize("seed", [1, 2])
def test_batches_match_brute_force(db: Database, principal: Principal, fraud_case: str, tmp_path: Path,
                                   seed: int) -> None:
    rows, truth = generate(seed, 240, 150)
    ids = [r["report_id"] for r in rows]
    # three files of different sizes; the last repeats ten reports of the first (stored once)
    parts = [rows[:100], rows[100:130], rows[130:] + rows[:10]]
    stored = 0
    for n, part in enumerate(parts):
        out = _import(db, principal, write_reports(tmp_path / f"r{n}.csv", part), case_id=fraud_case)
        assert out["problem_count"] == 0, out["problems"][:3]
        stored += out["stored"]
    assert stored == len(rows)
    assert stored_partition(db) == reference_partition(ids, truth)
    loss = {r["report_id"]: round(float(r["loss"]) * 100) for r in rows}
    with db.sessionmaker() as s:
        assert recount(s) == 0
        for c in s.scalars(select(FraudCluster)):
            members = s.scalars(select(FraudReport.id).where(FraudReport.cluster_id == c.id)).all()
            assert c.loss_cents == sum(loss[m] for m in members)
        # each identifier's report count is the number of reports naming that identity
        counts = {row.kind + ":" + row.value: row.report_count for row in s.execute(
            select(FraudIdentifier.kind, FraudIdentifier.value, FraudIdentifier.report_count))}
    assert sum(counts.values()) == sum(len(t) for t in truth)
    assert len(counts) == len(set().union(*truth))


def test_one_at_a_time_matches_brute_force(db: Database, principal: Principal, fraud_case: str) -> None:
    """The incremental path: reports through the API service one by one (clusters merge as they meet)."""
    rows, truth = generate(7, 120, 60)
    kinds = {"phones": "phone", "accounts": "account", "urls": "url"}
    for r in rows:
        body = ReportIn(report_id=r["report_id"], ts=dt.datetime.fromisoformat(r["ts"]), type=r["type"],
                        loss=r["loss"], case_id=fraud_case,
                        identifiers=[IdentifierIn(kind=kinds[c], value=v) for c in kinds for v in r[c]])  # type: ignore[arg-type]
        with db.session() as s:
            service.record_report(s, body=body, principal=principal)
    assert stored_partition(db) == reference_partition([r["report_id"] for r in rows], truth)
    with db.sessionmaker() as s:
        assert recount(s) == 0
        assert s.scalar(select(func.count()).select_from(FraudCluster)) == len(stored_partition(db))


def test_pure_paths_agree() -> None:
    """SciPy components, the incremental union–find and the brute force on the same keys."""
    _, truth = generate(3, 400, 200)
    labels = cluster_keys([sorted(t) for t in truth])
    uf = UnionFind()
    roots = [uf.link(i, sorted(t)) for i, t in enumerate(truth)]
    roots = [uf.find(("r", i)) for i in range(len(truth))]
    ref = reference_partition([str(i) for i in range(len(truth))], truth)

    def part(lab: list[Any]) -> set[frozenset[str]]:
        g: dict[Any, set[str]] = {}
        for i, x in enumerate(lab):
            g.setdefault(x, set()).add(str(i))
        return {frozenset(v) for v in g.values()}

    assert part(list(labels)) == ref == part(roots)
    assert list(labels[:1]) == [0] and np.all(np.diff(np.maximum.accumulate(labels)) <= 1)


def test_new_clusters_open_fraud_cases(db: Database, principal: Principal, analyst: str, tmp_path: Path) -> None:
    """Without --case every new cluster opens a fraud case; a report joining a cluster joins its case."""
    from precinct.cases import service as cases

    rows = [{"report_id": "A", "ts": "2026-03-01T10:00:00+08:00", "type": "fake_loan", "loss": "100",
             "phones": ["13800138000"]},
            {"report_id": "B", "ts": "2026-03-02T10:00:00+08:00", "type": "fake_loan", "loss": "50",
             "phones": ["+86 138-0013-8000"]},
            {"report_id": "C", "ts": "2026-03-02T11:00:00+08:00", "type": "fake_shopping", "loss": "7"}]
    out = _import(db, principal, write_reports(tmp_path / "a.csv", rows))
    assert out["stored"] == 3 and out["clusters_opened"] == 2
    with db.sessionmaker() as s:
        case_of = {r[0]: r[1] for r in s.execute(select(FraudReport.id, FraudReport.case_id))}
        assert case_of["A"] == case_of["B"] != case_of["C"]
        for cid in set(case_of.values()):
            case = cases.get_case(s, cid)
            assert case["type"] == "fraud" and case["lead"] == analyst


def test_failed_batch_stores_nothing(db: Database, principal: Principal, fraud_case: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Linking is all or nothing: a failure part-way through a batch leaves no report, identifier or cluster."""
    rows, _ = generate(5, 50, 30)
    _import(db, principal, write_reports(tmp_path / "first.csv", rows[:20]), case_id=fraud_case)
    before = stored_partition(db)

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_audit_collection", boom)  # fails after every row of the batch is written
    parsed = intake.parse_csv(write_reports(tmp_path / "second.csv", rows[20:]))
    with pytest.raises(RuntimeError), db.session() as s:
        service.import_reports(s, parsed=parsed, principal=principal, case_id=fraud_case)
    assert stored_partition(db) == before
    with db.sessionmaker() as s:
        assert recount(s) == 0


def test_both_engines_match_brute_force(any_db: Database, tmp_path: Path) -> None:
    """The batch and the one-report paths on SQLite and PostgreSQL (RETURNING, advisory lock)."""
    from conftest import make_user
    from precinct.cases import service as cases
    from precinct.core.identity import principal_for

    user = make_user(any_db, "analyst")
    with any_db.session() as s:
        case = str(cases.open_case(s, title="fraud", type="fraud", lead=user)["id"])
        p = principal_for(s, user)
    rows, truth = generate(11, 90, 50)
    _import(any_db, p, write_reports(tmp_path / "a.csv", rows[:60]), case_id=case)
    kinds = {"phones": "phone", "accounts": "account", "urls": "url"}
    for r in rows[60:]:
        body = ReportIn(report_id=r["report_id"], ts=dt.datetime.fromisoformat(r["ts"]), type=r["type"],
                        loss=r["loss"], identifiers=[IdentifierIn(kind=kinds[c], value=v)  # type: ignore[arg-type]
                                                     for c in kinds for v in r[c]])
        with any_db.session() as s:
            service.record_report(s, body=body, principal=p)
    assert stored_partition(any_db) == reference_partition([r["report_id"] for r in rows], truth)
    with any_db.sessionmaker() as s:
        assert recount(s) == 0
