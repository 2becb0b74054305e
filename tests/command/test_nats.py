"""The board across API workers: events published by one worker reach another's board via NATS."""

from __future__ import annotations

import asyncio
import socket

import pytest

from precinct.command.board import BoardHub
from precinct.core.bus import NatsBus

NATS_URL = "nats://127.0.0.1:4222"


def _nats_reason() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=2):
            return None
    except OSError as exc:
        return f"no NATS server at {NATS_URL}: {type(exc).__name__}"


@pytest.mark.skipif(_nats_reason() is not None, reason=_nats_reason() or "")
def test_events_cross_workers_through_nats() -> None:
    async def scenario() -> list[bytes]:
        worker_a, worker_b = (
            NatsBus(NATS_URL, subject_root="precinct_test"),
            NatsBus(NATS_URL, subject_root="precinct_test"),
        )
        await worker_a.start()
        await worker_b.start()
        hub = BoardHub(worker_b)
        await hub.start()
        await asyncio.sleep(0.1)
        client = hub.connect(personal=True)
        try:
            worker_a.publish("incidents.created", {"incident_id": "INC-1"})
            worker_a.publish("anpr.alert", {"plate": "苏M12345"})
            frames = [b""]
            while frames[0].count(b"event: ") < 2:
                frames[0] += await asyncio.wait_for(client.queue.get(), 5)
            frames = [frames[0].split(b"\n\n", 1)[0], frames[0].split(b"\n\n", 1)[1]]
        finally:
            await hub.stop()
            await worker_a.stop()
            await worker_b.stop()
        return frames

    frames = asyncio.run(scenario())
    assert b"event: incidents.created" in frames[0] and b"INC-1" in frames[0]
    assert b"event: anpr.alert" in frames[1] and "苏M12345".encode() in frames[1]
