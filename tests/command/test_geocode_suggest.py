"""Address suggestions as a call-taker types: the road network's own names, best first."""

from __future__ import annotations

from fastapi.testclient import TestClient

BASE = (32.49, 119.92)


def test_suggest_names_from_the_road_network(client: TestClient, login, app) -> None:
    h = login("call_taker")
    r = client.get("/api/v1/geocode/suggest", params={"q": "Renm"}, headers=h)
    assert r.status_code == 200, r.text
    cands = r.json()["candidates"]
    assert cands and "人民路" in cands[0]["label"] and "Renmin" in cands[0]["label"]
    # The suggestion is the place the call would resolve to: the same point as a call by that name.
    made = client.post("/api/v1/calls", json={"address": "人民路", "type": "theft", "caller_phone": "110"},
                       headers=h).json()
    assert (cands[0]["lat"], cands[0]["lon"]) == (made["lat"], made["lon"])
    assert abs(cands[0]["lat"] - BASE[0]) < 0.03
    scores = [c["score"] for c in cands]
    assert scores == sorted(scores, reverse=True)
    assert client.get("/api/v1/geocode/suggest", params={"q": "Nowhere Avenue 999"},
                      headers=h).json()["candidates"] == []


def test_suggest_bad_input_and_access(client: TestClient, login) -> None:
    h = login("call_taker")
    r = client.get("/api/v1/geocode/suggest", params={"q": "   "}, headers=h)
    assert r.status_code == 422 and "q" in r.text
    assert client.get("/api/v1/geocode/suggest", headers=h).status_code == 422
    assert client.get("/api/v1/geocode/suggest", params={"q": "人民"}, headers=login("auditor")).status_code == 403
