"""The JetStream bus: one id sequence for every worker, exact replay anywhere, NATS restarts survived."""

from __future__ import annotations

import asyncio

from precinct.core.bus import BusEvent, JetStreamBus

from .conftest import NatsServer


async def _collect(bus: JetStreamBus, n: int, out: list[BusEvent]) -> None:
    async for item in bus.subscribe_events(""):
        out.append(item)
        if len(out) >= n:
            return


def test_ids_are_the_stream_sequence_on_every_worker(nats_server: NatsServer) -> None:
    async def scenario() -> None:
        a, b = JetStreamBus(nats_server.url, "ptest"), JetStreamBus(nats_server.url, "ptest")
        await a.start()
        await b.start()
        got_a: list[BusEvent] = []
        got_b: list[BusEvent] = []
        ta = asyncio.create_task(_collect(a, 40, got_a))
        tb = asyncio.create_task(_collect(b, 40, got_b))
        await asyncio.sleep(0.2)
        for i in range(20):
            a.publish("incidents.created", {"n": i, "from": "a"})
            b.publish("units.moved", {"n": i, "from": "b"})
        await asyncio.wait_for(asyncio.gather(ta, tb), 10)
        assert [(e.id, e.subject, e.event) for e in got_a] == [(e.id, e.subject, e.event) for e in got_b]
        assert [e.id for e in got_a] == list(range(1, 41))
        # a worker started later (its buffer empty) replays from the stream, exactly
        c = JetStreamBus(nats_server.url, "ptest", replay_max=100)
        await c.start()
        assert c.last_id == 40
        tail = await c.replay(33)
        assert tail is not None and [(e.id, e.event) for e in tail] == [(e.id, e.event) for e in got_a[33:]]
        assert await c.replay(40) == []
        for bus in (a, b, c):
            await bus.stop()

    asyncio.run(scenario())


def test_nats_restart_mid_stream_loses_and_repeats_nothing(nats_server: NatsServer) -> None:
    total = 300

    async def scenario() -> None:
        a, b = JetStreamBus(nats_server.url, "ptest"), JetStreamBus(nats_server.url, "ptest")
        await a.start()
        await b.start()
        got: list[BusEvent] = []
        collector = asyncio.create_task(_collect(b, total, got))

        async def publish() -> None:
            for i in range(total):
                a.publish("incidents.updated", {"n": i})
                await asyncio.sleep(0.005)

        publisher = asyncio.create_task(publish())
        while len(got) < total // 3:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(nats_server.restart)  # mid-stream: stop, then start on the same store
        await asyncio.wait_for(asyncio.gather(publisher, collector), 25)
        assert [e.event["n"] for e in got] == list(range(total))  # none missed, none twice, in order
        ids = [e.id for e in got]
        assert ids == sorted(set(ids))
        await a.stop()
        await b.stop()

    asyncio.run(scenario())
