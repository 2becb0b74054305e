"""Board flush timing rule (no clock assertions): the first event after a quiet spell is handed to the
clients without waiting for the flush timer; an event right after it waits for the next window."""

from __future__ import annotations

import asyncio

from precinct.command.board import BoardHub
from precinct.command.board_policy import access_for
from precinct.core.bus import InProcessBus
from precinct.core.identity import Principal
from precinct.core.roles import Role


async def _spin(until, rounds: int = 50) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        if until():
            return True
        await asyncio.sleep(0)
    return bool(until())


def test_first_event_goes_at_once_then_one_flush_per_window() -> None:
    async def main() -> None:
        bus = InProcessBus()
        await bus.start()
        hub = BoardHub(bus)
        await hub.start()
        client = hub.connect(access=access_for(Principal(1, "d", Role.dispatcher)))
        await _spin(lambda: False, 5)  # the hub subscribes
        bus.publish("anpr.alert", {"alert_id": 1})
        assert await _spin(lambda: not client.queue.empty()), "first event waited for the timer"
        assert b'"alert_id":1' in client.queue.get_nowait()
        bus.publish("anpr.alert", {"alert_id": 2})
        await _spin(lambda: hub._flush_handle is not None)
        handle = hub._flush_handle
        assert handle is not None and handle.when() > asyncio.get_running_loop().time()
        assert client.queue.empty()  # held for the next window
        await hub.stop()
        await bus.stop()

    asyncio.run(main())
