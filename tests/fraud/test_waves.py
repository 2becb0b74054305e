"""Fraud waves: types and clusters past the threshold in the window, against a brute-force count
over the generated reports (types counted directly, clusters grown by hand from shared
identifiers); a wave carries no personal data; the API publishes each wave on the bus."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.fraud import intake, service

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
TYPES = ("task_rebate", "fake_loan", "fake_shopping")
CHANNELS = ("call", "sms", "app")


def generate(seed: int, n: int = 80) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({"report_id": f"WV{seed}-{i}", "ts": NOW - dt.timedelta(days=rnd.uniform(0, 14)),
                     "type": rnd.choice(TYPES), "channel": rnd.choice(CHANNELS),
                     "accounts": [f"6222{rnd.randrange(60):012d}"] if rnd.random() < 0.7 else [],
                     "phones": [f"+86139{rnd.randrange(60):08d}"] if rnd.random() < 0.5 else [],
                     "victim": f"受害人{i}", "victim_phone": f"1370000{i:04d}"})
    for i in range(6):  # a mixed cluster: a wave as a cluster while neither type is one
        rows.append({"report_id": f"WV{seed}-m{i}", "ts": NOW - dt.timedelta(hours=3 + i),
                     "type": ("fake_credit", "game_trading")[i % 2], "channel": "call",
                     "accounts": ["6222888800000000"], "phones": [], "victim": f"受害人m{i}",
                     "victim_phone": f"1370001{i:04d}"})
    return rows


def csv_of(rows: list[dict[str, Any]]) -> str:
    head = "report_id,ts,type,channel,loss,accounts,phones,urls,victim_name,victim_phone\n"
    return head + "".join(f"{r['report_id']},{r['ts'].isoformat()},{r['type']},{r['channel']},100,"
                          f"{';'.join(r['accounts'])},{';'.join(r['phones'])},,{r['victim']},{r['victim_phone']}\n"
                          for r in rows)


def brute_force(rows: list[dict[str, Any]], *, threshold: int, days: float,
                of: str | None = None) -> Counter[tuple[str, str, int]]:
    """The waves (kind, type, reports); with ``of``, only those the report ``of`` is part of."""
    groups = [{r["report_id"]} for r in rows]
    ids = {r["report_id"]: set(r["accounts"]) | set(r["phones"]) for r in rows}
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if set().union(*(ids[x] for x in groups[i])) & set().union(*(ids[x] for x in groups[j])):
                    groups[i] |= groups.pop(j)
                    merged = True
                    break
            if merged:
                break
    by_id = {r["report_id"]: r for r in rows}
    recent = {r["report_id"] for r in rows if NOW - dt.timedelta(days=days) <= r["ts"] <= NOW}
    type_n = Counter(by_id[x]["type"] for x in recent)
    wave_types = {t for t, n in type_n.items() if n >= threshold}
    out: Counter[tuple[str, str, int]] = Counter(("type", t, type_n[t]) for t in wave_types
                                                 if of is None or by_id[of]["type"] == t)
    for g in groups:
        if of is not None and of not in g:
            continue
        inside = [by_id[x]["type"] for x in g if x in recent]
        if len(inside) < threshold:
            continue
        counts = Counter(inside)
        main = min(counts.items(), key=lambda x: (-x[1], x[0]))[0]
        if main not in wave_types:
            out[("cluster", main, len(inside))] += 1
    return out


def store(db: Database, principal: Principal, rows: list[dict[str, Any]]) -> None:
    parsed = intake.parse_text(csv_of(rows))
    assert not parsed.problems, parsed.problems[:3]
    with db.session() as s:
        service.import_reports(s, parsed=parsed, principal=principal)


def test_waves_match_a_brute_force_count(db: Database, principal: Principal) -> None:
    rows = generate(7)
    store(db, principal, rows)
    for threshold, days in ((5, 7.0), (12, 7.0), (3, 2.0), (30, 14.0), (200, 7.0)):
        with db.sessionmaker() as s:
            waves = service.detect_waves(s, threshold=threshold, days=days, now=NOW)
        got = Counter((w["kind"], w["fraud_type"], w["reports"]) for w in waves)
        assert got == brute_force(rows, threshold=threshold, days=days), (threshold, days)
        for of in [r["report_id"] for r in rows[::7]] + [r["report_id"] for r in rows[-6:]]:
            with db.sessionmaker() as s:  # the check after one report: only its type's and cluster's waves
                mine = service.waves_of_reports(s, report_ids=[of], threshold=threshold, days=days, now=NOW)
            assert Counter((w["kind"], w["fraud_type"], w["reports"]) for w in mine) == \
                brute_force(rows, threshold=threshold, days=days, of=of), (threshold, days, of)
    with db.sessionmaker() as s:
        waves = service.detect_waves(s, threshold=5, days=7.0, now=NOW)
    kinds = Counter(w["kind"] for w in waves)
    assert kinds["type"] and kinds["cluster"]  # both branches are exercised above
    text = json.dumps(waves, ensure_ascii=False)
    for r in rows:  # no report id, identifier or victim in a wave
        for value in [r["report_id"], r["victim"], r["victim_phone"][3:], *r["accounts"], *r["phones"]]:
            assert value not in text, value


def test_the_api_announces_waves_on_the_bus(app: FastAPI, client: TestClient, settings: Any,
                                            auth_headers: Callable[..., dict[str, str]]) -> None:
    settings.fraud_wave_reports, settings.fraud_wave_days = 3, 7.0
    seen: list[tuple[str, dict[str, Any]]] = []
    app.state.bus.publish = lambda subject, event: seen.append((subject, event))  # type: ignore[method-assign]
    now = dt.datetime.now(dt.UTC)
    rows = [{"report_id": f"API-{i}", "ts": now - dt.timedelta(hours=i + 1), "type": "fake_loan", "channel": "sms",
             "accounts": [], "phones": [], "victim": f"v{i}", "victim_phone": f"1370000{i:04d}"} for i in range(3)]
    headers = {**auth_headers("analyst"), "Content-Type": "text/csv"}
    r = client.post("/api/v1/fraud/reports/import", content=csv_of(rows[:2]).encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert seen == []  # two reports: below the threshold
    r = client.post("/api/v1/fraud/reports/import", content=csv_of(rows[2:]).encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert [(s, w["kind"], w["fraud_type"], w["reports"]) for s, w in seen] == [("fraud.wave", "type", "fake_loan", 3)]
    r = client.get("/api/v1/fraud/waves", headers=auth_headers("analyst"))
    assert r.status_code == 200 and [w["reports"] for w in r.json()["waves"]] == [3]
