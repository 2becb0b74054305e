"""The live board on JetStream: a client that reconnects to another worker, or rides through a NATS
restart, sees every event exactly once and in order."""

from __future__ import annotations

import asyncio
import json
import re

from precinct.command.board import BoardClient, BoardHub
from precinct.core.bus import JetStreamBus

from .conftest import NatsServer

FRAME = re.compile(rb"id: (\d+)\nevent: ([^\n]+)\ndata: ([^\n]*)\n\n")


async def frames(client: BoardClient, n: int, timeout: float = 20.0) -> list[tuple[int, str, dict[str, object]]]:
    """The first ``n`` event frames the client receives (pings and resets would fail the count)."""
    buf = b""
    out: list[tuple[int, str, dict[str, object]]] = []

    async def _read() -> None:
        nonlocal buf
        while len(out) < n:
            buf += await client.queue.get()
            while (m := FRAME.search(buf)) is not None:
                out.append((int(m.group(1)), m.group(2).decode(), json.loads(m.group(3))))
                buf = buf[m.end():]
            assert b"board.reset" not in buf

    await asyncio.wait_for(_read(), timeout)
    return out[:n]


def test_reconnect_to_another_worker_replays_exactly(nats_server: NatsServer) -> None:
    async def scenario() -> None:
        a, b = JetStreamBus(nats_server.url, "board"), JetStreamBus(nats_server.url, "board")
        await a.start()
        await b.start()
        hub_b = BoardHub(b)
        await hub_b.start()
        await asyncio.sleep(0.2)
        client = hub_b.connect()
        for i in range(30):
            a.publish("incidents.updated", {"n": i})
        first = await frames(client, 20)
        seen = first[-1][0]
        # a worker that starts now knows nothing of those events: it reads them back from the stream
        c = JetStreamBus(nats_server.url, "board")
        await c.start()
        hub_c = BoardHub(c)
        await hub_c.start()
        await asyncio.sleep(0.2)
        again = hub_c.connect(str(seen))
        for i in range(30, 50):
            a.publish("incidents.updated", {"n": i})
        rest = await frames(again, 30)
        assert [f[2]["n"] for f in first + rest] == list(range(50))
        assert [f[0] for f in first + rest] == list(range(1, 51))
        for hub in (hub_b, hub_c):
            await hub.stop()
        for bus in (a, b, c):
            await bus.stop()

    asyncio.run(scenario())


def test_board_rides_through_a_nats_restart(nats_server: NatsServer) -> None:
    total = 200

    async def scenario() -> None:
        a, b = JetStreamBus(nats_server.url, "board"), JetStreamBus(nats_server.url, "board")
        await a.start()
        await b.start()
        hub = BoardHub(b)
        await hub.start()
        await asyncio.sleep(0.2)
        client = hub.connect()

        async def publish() -> None:
            for i in range(total):
                a.publish("incidents.updated", {"n": i})
                await asyncio.sleep(0.005)

        reader = asyncio.create_task(frames(client, total, timeout=25))
        publisher = asyncio.create_task(publish())
        await asyncio.sleep(0.3)
        await asyncio.to_thread(nats_server.restart)
        await publisher
        got = await reader
        assert [f[2]["n"] for f in got] == list(range(total))
        ids = [f[0] for f in got]
        assert ids == sorted(set(ids))
        await hub.stop()
        await a.stop()
        await b.stop()

    asyncio.run(scenario())
