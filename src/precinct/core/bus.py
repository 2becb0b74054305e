"""Event bus: in-process by default; NATS JetStream when ``PRECINCT_BUS_URL`` is set.

Events are small JSON-able dicts published on dotted subjects (``incidents.updated``,
``anpr.alert``). Subscribers get an async iterator; a slow subscriber's queue is bounded and the
oldest events are dropped for it alone (a live board must never stall the publisher).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

from precinct.config import Settings

QUEUE_SIZE = 10_000


class Bus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def publish(self, subject: str, event: dict[str, Any]) -> None: ...
    def subscribe(self, prefix: str = "") -> AsyncIterator[tuple[str, dict[str, Any]]]: ...


class InProcessBus:
    """Fan-out to asyncio queues in this process; ``publish`` is thread-safe."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[str, asyncio.Queue[tuple[str, dict[str, Any]]]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._subscribers.clear()

    def publish(self, subject: str, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(subject, event)
        else:
            loop.call_soon_threadsafe(self._deliver, subject, event)

    def _deliver(self, subject: str, event: dict[str, Any]) -> None:
        for prefix, queue in list(self._subscribers):
            if subject.startswith(prefix):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait((subject, event))

    async def subscribe(self, prefix: str = "") -> AsyncIterator[tuple[str, dict[str, Any]]]:
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(QUEUE_SIZE)
        entry = (prefix, queue)
        self._subscribers.append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(entry)


class NatsBus(InProcessBus):
    """Publishes through NATS so several API workers share one event stream.

    Local subscribers are fed from the NATS subscription (including this worker's own events),
    so every worker's live board sees every change.
    """

    def __init__(self, url: str, subject_root: str = "precinct") -> None:
        super().__init__()
        self.url = url
        self.root = subject_root
        self._nc: Any = None
        self._sub: Any = None

    async def start(self) -> None:
        import nats

        await super().start()
        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)

        async def _on_msg(msg: Any) -> None:
            subject = msg.subject[len(self.root) + 1:]
            self._deliver(subject, json.loads(msg.data))

        self._sub = await self._nc.subscribe(f"{self.root}.>", cb=_on_msg)

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
        await super().stop()

    def publish(self, subject: str, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or self._nc is None:
            return
        data = json.dumps(event, default=str).encode()
        coro = self._nc.publish(f"{self.root}.{subject}", data)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(coro)
        else:
            asyncio.run_coroutine_threadsafe(coro, loop)


def make_bus(settings: Settings) -> Bus:
    """The bus the settings name: NATS for ``nats://host:port[/subject-root]``, else in-process.

    The optional path is the subject root (default ``precinct``), so that several deployments or
    benchmark runs can share one NATS server without seeing each other's events.
    """
    if settings.bus_url:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(settings.bus_url)
        root = parts.path.strip("/") or "precinct"
        return NatsBus(urlunsplit((parts.scheme, parts.netloc, "", "", "")), subject_root=root)
    return InProcessBus()
