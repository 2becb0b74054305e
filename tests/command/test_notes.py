"""Issue 21: notes on an incident: stored as timeline events (author, time, text), plain text and
length-limited, retry-safe, for the intake roles only, and pushed to the boards with the incident."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.city.access import CityLink
from precinct.command import incidents, notes
from precinct.command.intake import create_call
from precinct.core.db import Database
from precinct.errors import BadInput, NotFound

BASE = (32.49, 119.92)


def _incident(db: Database) -> str:
    with db.session() as s:
        res = create_call(s, actor="ct", role="call_taker", city=CityLink(None), type="theft",
                          lat=BASE[0], lon=BASE[1], description="bike stolen")
        return res.incident.id


def test_note_is_a_timeline_event_with_author_and_time(any_db: Database) -> None:
    inc = _incident(any_db)
    with any_db.session() as s:
        first = notes.add_note(s, incident_id=inc, text="  caller says the thief wore a red jacket \n", actor="disp1")
    with any_db.session() as s:
        notes.add_note(s, incident_id=inc, text="第二条：嫌疑人向北逃离\n骑电动车", actor="ct2")
    assert first["text"] == "caller says the thief wore a red jacket" and first["ts"].endswith("Z")
    with any_db.sessionmaker() as s:
        hist = incidents.history(s, inc)
    got = [(e["kind"], e["actor"], e["detail"].get("text")) for e in hist if e["kind"] == "note"]
    assert got == [("note", "disp1", "caller says the thief wore a red jacket"),
                   ("note", "ct2", "第二条：嫌疑人向北逃离\n骑电动车")]
    assert hist[-2]["ts"] == first["ts"]
    for bad, reason in (("   ", "empty"), ("x" * (notes.MAX_NOTE_CHARS + 1), "too long"), ("a\x07b", "control")):
        with pytest.raises(BadInput) as err, any_db.session() as s:
            notes.add_note(s, incident_id=inc, text=bad, actor="disp1")
        assert err.value.detail == {"field": "text", "reason": reason}
    with pytest.raises(NotFound), any_db.session() as s:
        notes.add_note(s, incident_id="INC-NOPE", text="hello", actor="disp1")
    with any_db.sessionmaker() as s:  # the refused notes left nothing behind
        assert sum(e["kind"] == "note" for e in incidents.history(s, inc)) == 2


def test_note_route_roles_retry_and_live_event(app: FastAPI, client: TestClient, login: Any) -> None:
    ct = login("call_taker")
    r = client.post("/api/v1/calls", headers=ct, json={"lat": BASE[0], "lon": BASE[1], "type": "theft"})
    assert r.status_code == 201, r.text
    inc = r.json()["incident_id"]
    bus = app.state.bus
    received: list[tuple[str, dict[str, Any]]] = []

    async def listen() -> None:
        agen = bus.subscribe("incidents.")
        received.append(await asyncio.wait_for(agen.__anext__(), 10))
        await agen.aclose()

    fut = asyncio.run_coroutine_threadsafe(listen(), bus._loop)
    time.sleep(0.2)  # let the subscriber register
    disp = login("dispatcher")
    key = {"Idempotency-Key": "note-1"}
    r = client.post(f"/api/v1/incidents/{inc}/notes", headers={**disp, **key}, json={"text": "<b>not html</b>"})
    assert r.status_code == 201, r.text
    note = r.json()["note"]
    assert note["text"] == "<b>not html</b>"
    fut.result(timeout=10)
    subject, event = received[0]
    assert subject == "incidents.updated" and event["incident_id"] == inc
    assert event["incident"]["updated_at"] == note["ts"]
    # a retry with the same key adds nothing
    again = client.post(f"/api/v1/incidents/{inc}/notes", headers={**disp, **key}, json={"text": "<b>not html</b>"})
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    r = client.post(f"/api/v1/incidents/{inc}/notes", headers=ct, json={"text": "回拨：无人接听"})
    assert r.status_code == 201, r.text
    hist = client.get(f"/api/v1/incidents/{inc}", headers=disp).json()["history"]
    assert [(e["actor"], e["detail"]["text"]) for e in hist if e["kind"] == "note"] == [
        (note["actor"], "<b>not html</b>"), (r.json()["note"]["actor"], "回拨：无人接听")]
    for role in ("patrol", "analyst", "auditor"):
        refused = client.post(f"/api/v1/incidents/{inc}/notes", headers=login(role), json={"text": "x"})
        assert refused.status_code == 403, (role, refused.text)
    for body in ({"text": ""}, {"text": "x" * 501}, {"text": "ok", "extra": 1}):
        assert client.post(f"/api/v1/incidents/{inc}/notes", headers=disp, json=body).status_code == 422
    assert client.post("/api/v1/incidents/INC-NOPE/notes", headers=disp, json={"text": "x"}).status_code == 404
