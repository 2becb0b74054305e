"""Call intake: types, validation, durability with idempotency keys, duplicates, audit, masking."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from precinct.command.models import Call, Incident
from precinct.command.types import INCIDENT_TYPES, Priority, response_plan
from precinct.core.models import AuditRecord

BASE = (32.49, 119.92)


def call_body(**kw):
    body = {
        "lat": BASE[0],
        "lon": BASE[1],
        "type": "theft",
        "caller_phone": "13812345678",
        "description": "手机在商场被盗",
    }
    body.update(kw)
    return body


def test_incident_types_table(client: TestClient, login) -> None:
    assert client.get("/api/v1/incident-types").status_code == 401
    r = client.get("/api/v1/incident-types", headers=login("call_taker"))
    assert r.status_code == 200
    types = {t["code"]: t for t in r.json()["types"]}
    assert types["armed_robbery"]["priority"] == "red"
    assert types["armed_robbery"]["name_zh"] == "持械抢劫"
    assert {"code", "name_zh", "name_en", "default_priority"} <= set(types["theft"])
    assert [p["priority"] for p in r.json()["priorities"]] == [
        "red",
        "orange",
        "yellow",
        "blue",
        "green",
    ]


def test_response_plans_follow_priority() -> None:
    assert response_plan("armed_robbery") == {"patrol": 2, "special": 1}
    up = response_plan("fight", Priority.red)  # orange -> red: one more patrol and a special unit
    assert up["patrol"] == 3 and up["special"] == 1
    assert response_plan("armed_robbery", "green") == {"patrol": 1}
    for t in INCIDENT_TYPES.values():
        assert t.units and all(n > 0 for _, n in t.units)


def test_create_call_durable_and_audited(client: TestClient, login, app) -> None:
    h = login("call_taker")
    r = client.post("/api/v1/calls", json=call_body(), headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["id"] and out["incident_id"] and out["priority"] == "yellow" and out["status"] == "new"
    with app.state.db.sessionmaker() as s:
        call = s.get(Call, out["id"])
        assert call is not None and call.caller_phone == "13812345678"
        rec = s.scalars(select(AuditRecord).where(AuditRecord.action == "collection")).all()
        assert any(out["id"] in r.params for r in rec)
    # dispatchers log calls too; other roles may not
    assert client.post("/api/v1/calls", json=call_body(), headers=login("dispatcher")).status_code == 201
    assert client.post("/api/v1/calls", json=call_body(), headers=login("analyst")).status_code == 403
    assert client.post("/api/v1/calls", json=call_body()).status_code == 401


def test_idempotency_key_returns_same_call(client: TestClient, login, app) -> None:
    h = {**login("call_taker"), "Idempotency-Key": "k-123"}
    first = client.post("/api/v1/calls", json=call_body(), headers=h)
    again = client.post("/api/v1/calls", json=call_body(), headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    with app.state.db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 1
    other = client.post("/api/v1/calls", json=call_body(description="different"), headers=h)
    assert other.status_code == 409 and other.json()["detail"]["field"] == "Idempotency-Key"


def test_bad_input_names_field_and_writes_nothing(client: TestClient, login, app) -> None:
    h = login("call_taker")
    cases = [
        (call_body(lat=123.0), "lat"),
        (call_body(lon=-200), "lon"),
        (call_body(type="no_such_type"), "type"),
        (call_body(priority="purple"), "priority"),
        (call_body(caller_phone="call me maybe"), "caller_phone"),
        (call_body(merge_into="INC-nope"), "merge_into"),
        ({"type": "theft", "caller_phone": "1", "description": ""}, "body"),
        (call_body(lat=None), "body"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/calls", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        text = r.text
        assert field in text, (field, text)
    r = client.post("/api/v1/calls", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422
    with app.state.db.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 0
        assert s.scalar(select(func.count()).select_from(Incident)) == 0


def test_duplicates_offered_and_merge(client: TestClient, login) -> None:
    h = login("call_taker")
    first = client.post("/api/v1/calls", json=call_body(type="fight"), headers=h).json()
    near = client.post("/api/v1/calls", json=call_body(type="brawl", lat=BASE[0] + 0.001), headers=h).json()
    assert [d["incident_id"] for d in near["duplicates"]] == [first["incident_id"]]
    far = client.post("/api/v1/calls", json=call_body(type="fight", lat=BASE[0] + 0.05), headers=h).json()
    assert far["duplicates"] == []
    unrelated = client.post("/api/v1/calls", json=call_body(type="lost_property"), headers=h).json()
    assert unrelated["duplicates"] == []
    # attach a call directly, and merge a duplicate incident
    attached = client.post(
        "/api/v1/calls", json=call_body(type="fight", merge_into=first["incident_id"]), headers=h
    ).json()
    assert attached["merged"] and attached["incident_id"] == first["incident_id"]
    r = client.post(
        f"/api/v1/incidents/{near['incident_id']}/merge",
        json={"into": first["incident_id"]},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["calls_count"] == 3
    gone = client.get(f"/api/v1/incidents/{near['incident_id']}", headers=h).json()
    assert gone["status"] == "merged" and gone["merged_into"] == first["incident_id"]


def test_lists_mask_callers_and_caller_read_is_purpose_bound(client: TestClient, login) -> None:
    h = login("call_taker")
    out = client.post("/api/v1/calls", json=call_body(), headers=h).json()
    inc = client.get(f"/api/v1/incidents/{out['incident_id']}", headers=h).json()
    assert inc["callers"] == ["138****5678"]
    assert "13812345678" not in client.get("/api/v1/incidents", headers=h).text
    assert "13812345678" not in client.get("/api/v1/board", headers=h).text
    # the caller's number needs a case and a purpose
    assert client.get(f"/api/v1/calls/{out['id']}", headers=h).status_code == 403
    hp = login("dispatcher", case=out["incident_id"], purpose="incident_response")
    r = client.get(f"/api/v1/calls/{out['id']}", headers=hp)
    assert r.status_code == 200 and r.json()["caller_phone"] == "13812345678"
    r = client.get(f"/api/v1/incidents/{out['incident_id']}/calls", headers=hp)
    assert r.status_code == 200 and r.json()["calls"][0]["caller_phone"] == "13812345678"
    audit = client.get(
        "/api/v1/audit/records",
        headers=login("auditor", case="review-1", purpose="audit_review"),
        params={"case_id": out["incident_id"]},
    ).json()["records"]
    assert {"consultation", "collection"} <= {r["action"] for r in audit}


def test_priority_change_and_close(client: TestClient, login) -> None:
    h = login("call_taker")
    out = client.post("/api/v1/calls", json=call_body(type="enquiry"), headers=h).json()
    assert out["priority"] == "green"
    r = client.post(
        f"/api/v1/incidents/{out['incident_id']}/priority",
        json={"priority": "orange", "reason": "caller scared"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["priority"] == "orange"
    d = login("dispatcher")
    r = client.post(
        f"/api/v1/incidents/{out['incident_id']}/close",
        json={"disposition": "advice_given"},
        headers=d,
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = client.post(f"/api/v1/incidents/{out['incident_id']}/close", json={"disposition": "x"}, headers=d)
    assert r.status_code == 409
    hist = client.get(f"/api/v1/incidents/{out['incident_id']}", headers=h).json()["history"]
    assert [e["kind"] for e in hist] == ["created", "priority_changed", "closed"]


def test_address_resolves_against_road_names(client: TestClient, login, app) -> None:
    h = login("call_taker")
    for text in ("人民路", "Renmin Road", "renmin rd"):
        r = client.post(
            "/api/v1/calls",
            json={"address": text, "type": "theft", "caller_phone": "110"},
            headers=h,
        )
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["location_source"] == "geocoded" and abs(out["lat"] - BASE[0]) < 0.03
    r = client.post("/api/v1/calls", json={"address": "Nowhere Avenue 999", "type": "theft"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "address"
    from precinct.city.access import CityLink

    app.state.city_link = CityLink(None)
    r = client.post("/api/v1/calls", json={"address": "人民路", "type": "theft"}, headers=h)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "address"
