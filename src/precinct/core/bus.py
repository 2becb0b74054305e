"""Event bus: in-process by default; NATS JetStream when ``PRECINCT_BUS_URL`` is set.

Events are small JSON-able dicts published on dotted subjects (``incidents.updated``,
``anpr.alert``). Every event gets an **id**: a positive integer, strictly increasing in the order
subscribers receive events. Subscribers get an async iterator; a slow subscriber's queue is bounded
and the oldest events are dropped for it alone (a live board must never stall the publisher).

Two implementations, one contract:

- :class:`InProcessBus` (embedded default, one process): ids come from a counter that starts at the
  process start time in microseconds, so ids stay increasing across a restart; the last
  ``replay_max`` events are kept for :meth:`replay`.
- :class:`JetStreamBus` (several workers): events are stored in one JetStream stream with bounded
  retention (``bus_max_age_hours``, ``bus_replay_max``); the id is the stream sequence, the same on
  every worker, so a client that reconnects to any worker with ``Last-Event-ID`` is replayed exactly
  the events it missed (read back from the stream). Publishing goes through an ordered, retried
  queue with a message id per event (JetStream drops the duplicate of a retried publish), and each
  worker's consumer resumes after a NATS restart from the last sequence it delivered: no event is
  missed or delivered twice.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from precinct.config import Settings

log = logging.getLogger("precinct.bus")
QUEUE_SIZE = 10_000
DEFAULT_REPLAY_MAX = 10_000
PUBLISH_QUEUE = 100_000


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One delivered event: its bus-wide id, subject and body."""

    id: int
    subject: str
    event: dict[str, Any]


class Bus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def publish(self, subject: str, event: dict[str, Any]) -> None: ...
    def subscribe(self, prefix: str = "") -> AsyncIterator[tuple[str, dict[str, Any]]]: ...
    def subscribe_events(self, prefix: str = "") -> AsyncIterator[BusEvent]: ...
    async def replay(self, after: int, *, limit: int = DEFAULT_REPLAY_MAX) -> list[BusEvent] | None: ...
    @property
    def last_id(self) -> int: ...
    async def check(self) -> str | None: ...


class InProcessBus:
    """Fan-out to asyncio queues in this process; ``publish`` is thread-safe."""

    def __init__(self, *, replay_max: int = DEFAULT_REPLAY_MAX) -> None:
        self._subscribers: list[tuple[str, asyncio.Queue[BusEvent]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._history: collections.deque[BusEvent] = collections.deque(maxlen=max(1, replay_max))
        # ids above any id an earlier run of this process could have handed out
        self._last_id = time.time_ns() // 1000

    @property
    def last_id(self) -> int:
        """The id of the newest event delivered (0-based ids are never used)."""
        return self._last_id

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._subscribers.clear()

    async def check(self) -> str | None:
        """None when the bus works, else why not (for readiness)."""
        return None if self._loop is not None and not self._loop.is_closed() else "bus not started"

    def publish(self, subject: str, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._stamp(subject, event)
        else:
            loop.call_soon_threadsafe(self._stamp, subject, event)

    def _stamp(self, subject: str, event: dict[str, Any]) -> None:
        self._last_id += 1
        self._deliver(BusEvent(self._last_id, subject, event))

    def _deliver(self, item: BusEvent) -> None:
        self._history.append(item)
        for prefix, queue in list(self._subscribers):
            if item.subject.startswith(prefix):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(item)

    async def replay(self, after: int, *, limit: int = DEFAULT_REPLAY_MAX) -> list[BusEvent] | None:
        """The events after id ``after`` (oldest first, at most ``limit``), or None when some of them
        are no longer kept (or ``after`` is not an id of this bus): the client must reload."""
        if after >= self._last_id:
            return [] if after == self._last_id else None
        oldest = self._history[0].id if self._history else self._last_id + 1
        if after + 1 < oldest:
            return None
        return [e for e in self._history if e.id > after][:limit]

    async def subscribe_events(self, prefix: str = "") -> AsyncIterator[BusEvent]:
        """Every event whose subject starts with ``prefix``, with its id, from now on."""
        queue: asyncio.Queue[BusEvent] = asyncio.Queue(QUEUE_SIZE)
        entry = (prefix, queue)
        self._subscribers.append(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(entry)

    async def subscribe(self, prefix: str = "") -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """``(subject, event)`` pairs (without ids), for subscribers that need no replay."""
        async for item in self.subscribe_events(prefix):
            yield item.subject, item.event


class JetStreamBus(InProcessBus):
    """Events through one NATS JetStream stream, shared by every API worker.

    Local subscribers are fed from this worker's consumer of the stream (this worker's own events
    included), so every worker's live board sees every change, in stream order, with the stream
    sequence as id.

    Parameters
    ----------
    url
        ``nats://host:port``.
    subject_root
        Subjects are ``<root>.<subject>``; the stream is named after the root (upper case).
    max_age_s, max_msgs
        The stream's retention: events older than ``max_age_s`` or beyond the newest ``max_msgs``
        are discarded (and can no longer be replayed).
    """

    def __init__(self, url: str, subject_root: str = "precinct", *, max_age_s: float = 24 * 3600.0,
                 max_msgs: int = 1_000_000, replay_max: int = DEFAULT_REPLAY_MAX) -> None:
        super().__init__(replay_max=replay_max)
        self.url = url
        self.root = subject_root
        self.stream = "".join(c if c.isalnum() else "_" for c in subject_root).upper()
        self.max_age_s = max_age_s
        self.max_msgs = max_msgs
        self._last_id = 0
        self._nc: Any = None
        self._js: Any = None
        self._sub: Any = None
        self._outbox: asyncio.Queue[tuple[str, str, bytes]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._resubscribe = asyncio.Event()
        self._generation = 0
        self.publish_dropped = 0

    async def start(self) -> None:
        import nats
        from nats.js.api import DiscardPolicy, StorageType, StreamConfig

        await super().start()

        async def _reconnected() -> None:
            self._resubscribe.set()

        async def _quiet(exc: Exception) -> None:  # reconnects are logged once, not per attempt
            log.debug("nats: %s", exc)

        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1,
                                      reconnect_time_wait=0.5, reconnected_cb=_reconnected, error_cb=_quiet)
        self._js = self._nc.jetstream(timeout=5)
        config = StreamConfig(
            name=self.stream, subjects=[f"{self.root}.>"], storage=StorageType.FILE,
            max_age=self.max_age_s, max_msgs=self.max_msgs, discard=DiscardPolicy.OLD,
            duplicate_window=120.0,
        )
        try:
            await self._js.add_stream(config)
        except Exception:  # exists (perhaps with other limits): bring it to these
            await self._js.update_stream(config)
        info = await self._js.stream_info(self.stream)
        self._last_id = int(info.state.last_seq)
        self._outbox = asyncio.Queue(PUBLISH_QUEUE)
        self._tasks = [asyncio.create_task(self._publisher(), name="bus-publisher"),
                       asyncio.create_task(self._consumer(), name="bus-consumer")]

    async def stop(self) -> None:
        if self._outbox is not None:  # let queued events reach the stream (briefly)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), 2.0)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        await super().stop()

    async def check(self) -> str | None:
        if self._nc is None or not self._nc.is_connected:
            return "not connected to NATS"
        try:
            await self._js.stream_info(self.stream)
        except Exception as exc:
            return f"JetStream stream {self.stream} unavailable: {type(exc).__name__}"
        return None

    # --- publishing ---------------------------------------------------------------------------

    def publish(self, subject: str, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or self._outbox is None or loop.is_closed():
            return
        item = (uuid.uuid4().hex, f"{self.root}.{subject}", json.dumps(event, default=str).encode())
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(item)
        else:
            loop.call_soon_threadsafe(self._enqueue, item)

    def _enqueue(self, item: tuple[str, str, bytes]) -> None:
        assert self._outbox is not None
        if self._outbox.full():  # NATS away for long: the oldest unsent event goes
            with contextlib.suppress(asyncio.QueueEmpty):
                self._outbox.get_nowait()
                self._outbox.task_done()
                self.publish_dropped += 1
        self._outbox.put_nowait(item)

    async def _publisher(self) -> None:
        """Send queued events in order; retry each until the stream acknowledges it."""
        assert self._outbox is not None
        while True:
            msg_id, subject, data = await self._outbox.get()
            wait = 0.05
            while True:
                try:
                    await self._js.publish(subject, data, headers={"Nats-Msg-Id": msg_id}, timeout=2.0)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("bus publish of %s failed (%s); retrying", subject, type(exc).__name__)
                    await asyncio.sleep(wait)
                    wait = min(2.0, wait * 2)
            self._outbox.task_done()

    # --- consuming ----------------------------------------------------------------------------

    async def _subscribe_from(self, seq: int) -> Any:
        from nats.js.api import ConsumerConfig, DeliverPolicy

        self._generation += 1
        generation = self._generation

        async def _on_msg(msg: Any) -> None:
            if generation == self._generation:  # a replaced subscription's late messages are ignored
                self._on_stream_msg(msg.metadata.sequence.stream, msg.subject, msg.data)

        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(1, seq))
        return await self._js.subscribe(f"{self.root}.>", stream=self.stream, cb=_on_msg,
                                        ordered_consumer=True, idle_heartbeat=1.0, config=config)

    def _on_stream_msg(self, seq: int, subject: str, data: bytes) -> None:
        if seq <= self._last_id:
            return  # already delivered (a consumer re-created from an earlier sequence)
        if seq != self._last_id + 1:  # a gap: re-create the consumer from the first missing event
            self._resubscribe.set()
            return
        self._last_id = seq
        try:
            event = json.loads(data)
        except ValueError:
            log.warning("bus: undecodable event %s on %s skipped", seq, subject)
            return
        self._deliver(BusEvent(seq, subject[len(self.root) + 1:], event))

    async def _consumer(self) -> None:
        """Keep one ordered consumer on the stream from the first undelivered sequence on; after a
        reconnect (NATS restarted) or a gap, re-create it from there, retrying until JetStream
        answers. Events that left the stream meanwhile (retention) are skipped, with a warning."""
        while True:
            try:
                self._resubscribe.clear()
                old, self._sub = self._sub, None
                if old is not None:
                    with contextlib.suppress(Exception):
                        await old.unsubscribe()
                info = await self._js.stream_info(self.stream)
                first = int(info.state.first_seq)
                if first > self._last_id + 1 and int(info.state.messages) > 0:
                    log.warning("bus: events %d..%d expired before this worker read them",
                                self._last_id + 1, first - 1)
                    self._last_id = first - 1
                self._sub = await self._subscribe_from(self._last_id + 1)
                await self._resubscribe.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus consumer could not (re)subscribe: %s; retrying", type(exc).__name__)
                await asyncio.sleep(0.5)

    async def replay(self, after: int, *, limit: int = DEFAULT_REPLAY_MAX) -> list[BusEvent] | None:
        """The stream's events after sequence ``after`` (read back from JetStream when they are
        older than this worker's buffer), or None when the stream no longer holds them all."""
        kept = await super().replay(after, limit=limit)
        if kept is not None or after >= self._last_id or self._js is None:
            return kept
        from nats.js.api import ConsumerConfig, DeliverPolicy

        try:
            info = await self._js.stream_info(self.stream)
        except Exception:
            return None
        if after + 1 < int(info.state.first_seq):
            return None
        last = min(self._last_id, after + limit)
        out: list[BusEvent] = []
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1)
        sub = await self._js.subscribe(f"{self.root}.>", stream=self.stream, ordered_consumer=True,
                                       config=config)
        try:
            while True:
                msg = await sub.next_msg(timeout=5.0)
                seq = msg.metadata.sequence.stream
                if seq > last:
                    break
                out.append(BusEvent(seq, msg.subject[len(self.root) + 1:], json.loads(msg.data)))
                if seq == last:
                    break
        except Exception:
            return None
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        return out


NatsBus = JetStreamBus  # the earlier name


def make_bus(settings: Settings) -> Bus:
    """The bus the settings name: JetStream for ``nats://host:port[/subject-root]``, else in-process.

    The optional path is the subject root (default ``precinct``), so that several deployments or
    benchmark runs can share one NATS server without seeing each other's events.
    """
    replay_max = settings.bus_replay_max
    if settings.bus_url:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(settings.bus_url)
        root = parts.path.strip("/") or "precinct"
        return JetStreamBus(urlunsplit((parts.scheme, parts.netloc, "", "", "")), subject_root=root,
                            max_age_s=settings.bus_max_age_hours * 3600.0, max_msgs=settings.bus_max_msgs,
                            replay_max=min(replay_max, settings.bus_max_msgs))
    return InProcessBus(replay_max=replay_max)
