"""The in-process bus: ids strictly increasing (also across a restart), bounded exact replay."""

from __future__ import annotations

import asyncio

from precinct.core.bus import InProcessBus


def test_ids_increase_and_replay_is_exact_within_the_buffer() -> None:
    async def scenario() -> None:
        bus = InProcessBus(replay_max=100)
        await bus.start()
        got = []

        async def listen() -> None:
            async for item in bus.subscribe_events("incidents."):
                got.append(item)
                if len(got) == 150:
                    return

        task = asyncio.create_task(listen())
        await asyncio.sleep(0)
        for i in range(150):
            bus.publish("incidents.created", {"n": i})
            bus.publish("units.moved", {"n": i})
        await asyncio.wait_for(task, 5)
        ids = [e.id for e in got]
        assert ids == sorted(ids) and len(set(ids)) == 150
        assert [e.event["n"] for e in got] == list(range(150))
        last = bus.last_id
        tail = await bus.replay(last - 10)
        assert tail is not None and [e.id for e in tail] == list(range(last - 9, last + 1))
        assert await bus.replay(last) == []
        assert await bus.replay(last - 150) is None  # older than the buffer: the client reloads
        assert await bus.replay(last + 5) is None  # not an id of this bus
        await bus.stop()

    asyncio.run(scenario())


def test_a_restarted_bus_hands_out_higher_ids() -> None:
    async def first() -> int:
        bus = InProcessBus()
        await bus.start()
        bus.publish("x", {})
        await asyncio.sleep(0)
        return bus.last_id

    before = asyncio.run(first())
    later = InProcessBus()
    assert later.last_id > before
    assert asyncio.run(later.replay(before)) is None
