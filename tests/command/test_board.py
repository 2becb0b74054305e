"""The live board: SSE delivery of every bus event to authenticated clients, replay on reconnect."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI

BASE = (32.49, 119.92)


def events(lines: Iterator[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(id, event, data)`` triples parsed from an SSE line stream."""
    eid, name, data = "", "", ""
    for line in lines:
        if line.startswith("id: "):
            eid = line[4:]
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and name:
            yield eid, name, json.loads(data)
            eid, name, data = "", "", ""


def next_event(stream: Iterator[tuple[str, str, dict[str, Any]]], subject: str) -> tuple[str, dict[str, Any]]:
    for eid, name, data in stream:
        if name == subject:
            return eid, data
    raise AssertionError(f"stream ended before {subject}")


def ticket(live_server: str, token: str) -> str:
    """A single-use stream ticket for ``token``'s session."""
    r = httpx.post(f"{live_server}/api/v1/board/stream-ticket", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return str(r.json()["ticket"])


def test_board_streams_every_event_to_every_client(app: FastAPI, live_server: str, live_token) -> None:
    url = f"{live_server}/api/v1/board/stream"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, params={"ticket": "garbage"}).status_code == 401
    call_taker = {"Authorization": f"Bearer {live_token('call_taker')}"}
    supervisor_token = live_token("supervisor")
    patrol = {"Authorization": f"Bearer {live_token('patrol', unit_id='P1')}"}
    timeout = httpx.Timeout(10.0)
    with (
        httpx.Client(timeout=timeout) as a,
        httpx.Client(timeout=timeout) as b,
        a.stream("GET", url, params={"ticket": ticket(live_server, supervisor_token)}) as ra,
        b.stream("GET", url, headers=patrol) as rb,
    ):
        assert ra.status_code == rb.status_code == 200
        assert ra.headers["content-type"].startswith("text/event-stream")
        sa, sb = events(ra.iter_lines()), events(rb.iter_lines())
        next_event(sa, "board.hello")
        next_event(sb, "board.hello")
        r = httpx.post(
            f"{live_server}/api/v1/calls",
            headers=call_taker,
            json={"lat": BASE[0], "lon": BASE[1], "type": "fight", "caller_phone": "13812345678"},
        )
        assert r.status_code == 201
        for s in (sa, sb):
            _, data = next_event(s, "incidents.created")
            assert data["incident"]["id"] == r.json()["incident_id"]
            assert data["incident"]["callers"] == ["138****5678"]
            assert "13812345678" not in json.dumps(data)
        # other domains' events (ANPR hotlist alerts) reach the board too
        app.state.bus.publish("anpr.alert", {"plate": "苏M12345", "camera_id": "C1"})
        for s in (sa, sb):  # (both roles may read hotlist alerts: GET /anpr/alerts allows them)
            _, data = next_event(s, "anpr.alert")
            assert data["plate"] == "苏M12345"
    # a reconnecting client gets what it missed after Last-Event-ID
    with (
        httpx.Client(timeout=timeout) as c,
        c.stream("GET", url, params={"ticket": ticket(live_server, supervisor_token)},
                 headers={"Last-Event-ID": "0"}) as rc,
    ):
        replay = events(rc.iter_lines())
        eid, data = next_event(replay, "incidents.created")
        assert int(eid) >= 1 and data["incident"]["type"] == "fight"
