"""The anti-fraud API: reports and clusters, stop-payment and freeze requests with the legal clock,
warnings from recorded links, statistics — and the access rules around the personal data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.core.db import Database
from precinct.core.identity import principal_for
from precinct.fraud import requests as rq
from precinct.fraud.schemas import RequestIn, RequestTransition

Headers = Callable[..., dict[str, str]]


def _setup(app: FastAPI, auth_headers: Headers) -> tuple[dict[str, str], dict[str, str], str]:
    """An analyst's headers, the same with an open fraud case and purpose, and the case id."""
    from precinct.cases import service as cases

    h = auth_headers("analyst", username="fraudanalyst")
    db: Database = app.state.db
    with db.session() as s:
        case = str(cases.open_case(s, title="反诈专案", type="fraud", lead="fraudanalyst")["id"])
    return h, {**h, "X-Case-Id": case, "X-Purpose": "investigation"}, case


def _report(rid: str, ts: str, phone: str, **kw: Any) -> dict[str, Any]:
    return {"report_id": rid, "ts": ts, "type": kw.pop("type", "fake_investment"), "loss": kw.pop("loss", "1000"),
            "victim_name": f"victim {rid}", "victim_phone": "13912345678",
            "identifiers": [{"kind": "phone", "value": phone}, *kw.pop("more", [])], **kw}


def test_reports_clusters_and_access(client: TestClient, app: FastAPI, auth_headers: Headers) -> None:
    h, hc, case = _setup(app, auth_headers)
    r1 = client.post("/api/v1/fraud/reports", headers=h, json=_report(
        "W1", "2026-04-01T10:00:00+08:00", "+86 138-0013-8000",
        more=[{"kind": "account", "value": "6222 0212 3456 7890", "bank": "中国工商银行"}]))
    assert r1.status_code == 201, r1.text
    r2 = client.post("/api/v1/fraud/reports", headers=h, json=_report(
        "W2", "2026-04-03T10:00:00+08:00", "13800138000", loss="500.25",
        more=[{"kind": "url", "value": "HTTP://Pay.Example.com/x"}]))
    r3 = client.post("/api/v1/fraud/reports", headers=h, json=_report("W3", "2026-04-02T10:00:00+08:00",
                                                                      "13900139000", case_id=case))
    assert r2.json()["cluster_id"] == r1.json()["cluster_id"] != r3.json()["cluster_id"]
    assert r2.json()["case_id"] == r1.json()["case_id"] and r3.json()["case_id"] == case
    again = client.post("/api/v1/fraud/reports", headers=h, json=_report("W1", "2026-04-01T10:00:00+08:00",
                                                                         "13800138000"))
    assert again.status_code == 201 and again.json()["duplicate"] is True
    bad = client.post("/api/v1/fraud/reports", headers=h, json=_report("W9", "2026-04-01T10:00:00+08:00", "123",
                                                                       type="lottery"))
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["detail"]["problems"]}
    assert fields == {"type", "identifiers[0]"}

    assert client.get("/api/v1/fraud/clusters", headers=h).status_code == 403
    r = client.get("/api/v1/fraud/clusters", headers=hc)
    assert r.status_code == 200, r.text
    big = next(c for c in r.json()["clusters"] if c["report_ids"] == ["W1", "W2"])
    assert big["loss_total"] == 1500.25 and big["identifiers"][0] == "+8613800138000"
    view = client.get(f"/api/v1/fraud/clusters/{big['cluster_id']}", headers=hc).json()
    assert [t["report_id"] for t in view["timeline"]] == ["W1", "W2"]
    assert {v["name"] for v in view["victims"]} == {"victim W1", "victim W2"}
    assert view["identifiers"][0] == {"kind": "phone", "value": "+8613800138000", "bank": None, "reports": 2}
    assert {"kind": "account", "value": "6222021234567890", "bank": "中国工商银行", "reports": 1} in view["identifiers"]
    assert len(view["graph"]["nodes"]) == 5 and len(view["graph"]["edges"]) == 4
    # a call taker takes reports but may not read clusters
    ct = auth_headers("call_taker")
    assert client.post("/api/v1/fraud/reports", headers=ct, json=_report(
        "W4", "2026-04-04T10:00:00+08:00", "13700137000", case_id=case)).status_code == 201
    assert client.get("/api/v1/fraud/clusters", headers={**ct, "X-Case-Id": case,
                                                         "X-Purpose": "investigation"}).status_code == 403
    assert client.get("/api/v1/fraud/types", headers=ct).json()["types"][0]["code"] == "task_rebate"


def test_freeze_lifecycle_and_stats(client: TestClient, app: FastAPI, auth_headers: Headers) -> None:
    h, hc, case = _setup(app, auth_headers)
    client.post("/api/v1/fraud/reports", headers=h, json=_report(
        "Z1", "2026-04-01T10:00:00+08:00", "13800138000",
        more=[{"kind": "account", "value": "6222021234567890"}], case_id=case))
    r = client.post("/api/v1/fraud/requests", headers=h, json={
        "kind": "freeze", "account": "6222-0212-3456-7890", "bank": "工商银行", "case_id": case, "amount": "8000"})
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["state"] == "drafted" and req["cluster_id"] is not None and "account" not in req
    created, due = (dt.datetime.fromisoformat(req[k].replace("Z", "+00:00")) for k in ("created_at", "due_at"))
    assert due - created == dt.timedelta(hours=24)
    rid = req["id"]

    def move(state: str, **kw: Any) -> Any:
        return client.post(f"/api/v1/fraud/requests/{rid}/state", headers=h, json={"state": state, **kw})

    assert move("confirmed").status_code == 409  # not yet sent
    assert move("sent").json()["state"] == "sent"
    conf = move("confirmed", amount_held="7500.50").json()
    assert conf["amount_held"] == 7500.5 and conf["due_at"] is None
    exp1 = dt.datetime.fromisoformat(conf["expires_at"].replace("Z", "+00:00"))
    ren = move("renewed").json()
    assert ren["renewals"] == 1
    assert dt.datetime.fromisoformat(ren["expires_at"].replace("Z", "+00:00")) - exp1 == dt.timedelta(days=180)
    assert move("released", amount_returned="9000").status_code == 422  # more than was held
    rel = move("released", amount_returned="7000").json()
    assert rel["state"] == "released" and rel["amount_returned"] == 7000.0
    assert move("renewed").status_code == 409  # closed
    listing = client.get("/api/v1/fraud/requests", headers=hc)
    assert listing.json()["requests"][0]["account"] == "6222021234567890"
    csv_text = client.get("/api/v1/fraud/requests?format=csv", headers=hc).text
    assert csv_text.splitlines()[0].startswith("id,kind,state,bank,account") and "6222021234567890" in csv_text
    assert client.get("/api/v1/fraud/requests", headers=h).status_code == 403

    # warnings: only from a recorded link to a known identifier
    no = client.post("/api/v1/fraud/contacts", headers=h, json={
        "person_phone": "13600136000", "link": "call_from", "kind": "phone", "value": "13500135000",
        "at": "2026-04-05T09:00:00+08:00", "source": "carrier referral"})
    assert no.status_code == 404
    c = client.post("/api/v1/fraud/contacts", headers=h, json={
        "person_phone": "136 0013 6000", "link": "call_from", "kind": "phone", "value": "+86 138 0013 8000",
        "at": "2026-04-05T09:00:00+08:00", "source": "carrier referral"})
    assert c.status_code == 201, c.text
    leads = client.get("/api/v1/fraud/leads", headers=hc).json()["leads"]
    assert len(leads) == 1 and leads[0]["person_phone"] == "+8613600136000"
    assert leads[0]["link"]["value"] == "+8613800138000" and leads[0]["link"]["type"] == "call_from"
    assert "score" not in str(leads[0])
    w = client.post("/api/v1/fraud/warnings", headers=h, json={"contact_id": c.json()["contact_id"],
                                                               "method": "sms"}).json()
    assert w["state"] == "open" and w["text_zh"].startswith("【反诈中心】") and "person_phone" not in w
    out = client.post(f"/api/v1/fraud/warnings/{w['warning_id']}/outcome", headers=h,
                      json={"outcome": "transfer_stopped"})
    assert out.json()["outcome_zh"] == "劝阻成功"
    assert client.post(f"/api/v1/fraud/warnings/{w['warning_id']}/outcome", headers=h,
                       json={"outcome": "reached"}).status_code == 409
    assert client.get("/api/v1/fraud/leads", headers=hc).json()["leads"] == []

    stats = client.get("/api/v1/fraud/stats", headers=h).json()
    now_month = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    this = next(m for m in stats["months"] if m["month"] == now_month)
    assert (this["warnings_issued"], this["warnings_reached"], this["transfers_stopped"]) == (1, 1, 1)
    assert (this["accounts_frozen"], this["amount_held"], this["amount_returned"]) == (1, 7500.5, 7000.0)
    april = next(m for m in stats["months"] if m["month"] == "2026-04")
    assert april["reports"] == 1 and april["by_type"][0]["zh"] == "虚假投资理财"
    assert client.get("/api/v1/fraud/stats?since=2026-13", headers=h).status_code == 422


def test_legal_clock_flags(db: Database, analyst: str, fraud_case: str) -> None:
    """Overdue, expired and expiring requests against a known clock, with configured terms."""
    with db.sessionmaker() as s:
        p = principal_for(s, analyst)
    t0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
    terms = rq.Terms(stop_send_within_h=1, stop_term_h=48, stop_warn_before_h=12)
    with db.session() as s:
        a = rq.create_request(s, body=RequestIn(kind="stop_payment", account="6222021234567890", bank="ICBC",
                                                case_id=fraud_case), principal=p, now=t0, terms=terms)["id"]
        b = rq.create_request(s, body=RequestIn(kind="stop_payment", account="6222021234567891", bank="ICBC",
                                                case_id=fraud_case), principal=p, now=t0, terms=terms)["id"]
        for state in ("sent", "confirmed"):
            rq.transition_request(s, request_id=b, body=RequestTransition(state=state), principal=p,  # type: ignore[arg-type]
                                  now=t0 + dt.timedelta(minutes=30), terms=terms)
    with db.sessionmaker() as s:
        at = rq.supervision(s, now=t0 + dt.timedelta(minutes=50), terms=terms)
        assert at["counts"] == {"overdue": 0, "expired": 0, "expiring": 0}
        at = rq.supervision(s, now=t0 + dt.timedelta(hours=2), terms=terms)
        assert [r["id"] for r in at["overdue"]] == [a] and at["counts"]["expiring"] == 0
        at = rq.supervision(s, now=t0 + dt.timedelta(hours=40), terms=terms)
        assert [r["id"] for r in at["expiring"]] == [b]
        at = rq.supervision(s, now=t0 + dt.timedelta(hours=49), terms=terms)
        assert [r["id"] for r in at["expired"]] == [b]
        rows = rq.list_requests(s, now=t0 + dt.timedelta(hours=49), terms=terms)
        assert {r["id"]: r["flag"] for r in rows} == {a: "overdue", b: "expired"}
        assert "flag" in rq.export_requests_csv(rows).splitlines()[0]


def test_csv_upload(client: TestClient, app: FastAPI, auth_headers: Headers) -> None:
    h, hc, case = _setup(app, auth_headers)
    body = ("report_id,ts,type,loss,accounts,phones,urls\n"
            "U1,2026-04-01T10:00:00+08:00,杀猪盘,100,,+86 138-0013-8000,\n"
            "U2,2026-04-02T10:00:00+08:00,romance_investment,50,,13800138000;12345,pay.example.com\n")
    r = client.post(f"/api/v1/fraud/reports/import?case={case}", headers={**h, "Content-Type": "text/csv"},
                    content=body.encode())
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["stored"] == 2 and out["problems"] == [
        {"reason": out["problems"][0]["reason"], "field": "phones", "value": "12345", "line": 3, "report_id": "U2",
         "rejected": False}]
    clusters = client.get("/api/v1/fraud/clusters", headers=hc).json()["clusters"]
    assert [c["report_ids"] for c in clusters] == [["U1", "U2"]]
    sup = client.get("/api/v1/fraud/requests/supervision", headers=hc).json()
    assert sup["counts"] == {"overdue": 0, "expired": 0, "expiring": 0}
