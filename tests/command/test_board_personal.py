"""Hotlist alerts (plates) on the live board reach only the roles GET /anpr/alerts allows."""

from __future__ import annotations

import asyncio

from precinct.command.board import BoardHub
from precinct.command.board_policy import access_for
from precinct.core.bus import InProcessBus
from precinct.core.identity import Principal
from precinct.core.roles import Role


def test_personal_events_only_reach_cleared_clients() -> None:
    async def scenario() -> tuple[bytes, bytes, bytes]:
        bus = InProcessBus()
        await bus.start()
        hub = BoardHub(bus)
        await hub.start()
        await asyncio.sleep(0)
        cleared = hub.connect(access=access_for(Principal(1, "d", Role.dispatcher)))
        plain = hub.connect(access=access_for(Principal(2, "c", Role.call_taker)))
        bus.publish("incidents.created", {"id": "INC-1"})
        bus.publish("anpr.alert", {"plate": "苏M12345"})
        await asyncio.sleep(0.3)
        got_cleared = b"".join(cleared.queue.get_nowait() for _ in range(cleared.queue.qsize()))
        got_plain = b"".join(plain.queue.get_nowait() for _ in range(plain.queue.qsize()))
        replay = hub.connect("0", access=access_for(Principal(3, "a", Role.admin)))
        got_replay = b"".join(replay.queue.get_nowait() for _ in range(replay.queue.qsize()))
        await hub.stop()
        await bus.stop()
        return got_cleared, got_plain, got_replay

    cleared, plain, replay = asyncio.run(scenario())
    assert b"INC-1" in cleared and "苏M12345".encode() in cleared
    assert b"INC-1" in plain and "苏M12345".encode() not in plain
    assert b"INC-1" in replay and "苏M12345".encode() not in replay
