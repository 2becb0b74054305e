"""The live board: every bus event pushed to connected clients as Server-Sent Events.

One :class:`BoardHub` per app subscribes to the bus once, encodes each event once, keeps the last
events for reconnecting clients (``Last-Event-ID``) and, at most every ``FLUSH_S`` (100 ms; the
first event after a quiet spell at once), hands the same joined chunk of new frames to every
client's queue: each client then costs one queue put and one socket write per flush, however busy
the bus is, for at most 100 ms of added delay. A slow client loses its oldest chunks, never stalls the others.

Event ids are the bus's ids (:mod:`precinct.core.bus`): with JetStream, the stream sequence, the
same on every API worker. A client reconnecting with ``Last-Event-ID`` (to this worker or another,
or after a restart) gets exactly the events after it: from the hub's history, or read back from the
bus when they are older; if the bus no longer holds them all, a ``board.reset`` event tells the
client to reload the snapshot (``GET /board``).

Events that carry personal data (``anpr.*``: plates of hotlist hits) go only to clients whose role
may see hotlist alerts (``PURPOSE_ROLES[hotlist_alert]``); the ANPR side audits each alert's
disclosure when it raises it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

log = logging.getLogger("precinct.board")
CLIENT_QUEUE = 5_000
HISTORY = 2_000
PING_S = 15.0
MAX_BATCH = 50
FLUSH_S = 0.1


PERSONAL_PREFIXES = ("anpr.",)


def is_personal(subject: str) -> bool:
    return subject.startswith(PERSONAL_PREFIXES)


def encode_frame(event_id: int, subject: str, event: dict[str, Any]) -> bytes:
    """One Server-Sent Events frame."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {subject}\ndata: {data}\n\n".encode()


class BoardClient:
    def __init__(self, *, personal: bool = False) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(CLIENT_QUEUE)
        self.dropped = 0
        self.personal = personal
        self.skip_through = 0  # ids up to this one were already seen (on another worker that was ahead)
        self.held: list[bytes] | None = None  # frames held back while older ones are read from the bus

    def put(self, frame: bytes) -> None:
        if self.held is not None:
            self.held.append(frame)
            return
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
                self.dropped += 1
        self.queue.put_nowait(frame)


class BoardHub:
    """Fans bus events out to live-board clients."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self.clients: set[BoardClient] = set()
        self.history: collections.deque[tuple[int, bool, bytes]] = collections.deque(maxlen=HISTORY)
        self.seq = 0
        self._task: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._pending: list[tuple[int, bytes]] = []
        self._pending_personal: list[tuple[int, bytes]] = []
        self._replays: set[asyncio.Task[None]] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = float("-inf")

    async def start(self) -> None:
        self.seq = int(getattr(self.bus, "last_id", 0))
        self._task = asyncio.create_task(self._pump(), name="board-hub")
        self._pinger = asyncio.create_task(self._ping(), name="board-ping")

    async def _ping(self) -> None:
        """Keep idle streams open through proxies, and let each re-check its token."""
        while True:
            await asyncio.sleep(PING_S)
            for client in list(self.clients):
                if client.queue.empty():
                    client.put(b": ping\n\n")

    async def stop(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        if self._pinger is not None:
            self._pinger.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _pump(self) -> None:
        async for item in self.bus.subscribe_events(""):
            subject, event = item.subject, item.event
            try:
                self.seq = item.id
                frame = encode_frame(item.id, subject, event)
                personal = is_personal(subject)
                self.history.append((self.seq, personal, frame))
                (self._pending_personal if personal else self._pending).append((self.seq, frame))
                if self._flush_handle is None:
                    loop = asyncio.get_running_loop()
                    # at most one flush per FLUSH_S; the first event after a quiet spell goes at once
                    wait = max(0.0, self._last_flush + FLUSH_S - loop.time())
                    self._flush_handle = loop.call_later(wait, self._flush)
            except Exception:
                log.exception("board could not relay an event on %s", subject)

    def _flush(self) -> None:
        self._flush_handle = None
        self._last_flush = asyncio.get_running_loop().time()
        if not self._pending and not self._pending_personal:
            return
        # one joined chunk for everyone, one with the personal frames for those cleared for them
        pending, pending_personal = self._pending, self._pending_personal
        public = b"".join(f for _, f in pending)
        personal = b"".join(f for _, f in pending_personal)
        self._pending, self._pending_personal = [], []
        for client in list(self.clients):
            if client.skip_through:  # rare: this client saw some of these already, elsewhere
                mine = sorted(pending + pending_personal if client.personal else pending)
                chunk = b"".join(f for i, f in mine if i > client.skip_through)
                if self.seq >= client.skip_through:
                    client.skip_through = 0
            else:
                chunk = public + personal if client.personal else public
            if chunk:
                client.put(chunk)

    def connect(self, last_event_id: str | None = None, *, personal: bool = False) -> BoardClient:
        """A new client; ``personal`` says whether its role may receive personal-data events.

        With ``last_event_id``, the events after it come first: from the history, or (older than
        the history) read back from the bus before anything newer is sent.
        """
        client = BoardClient(personal=personal)
        if last_event_id and last_event_id.isdigit():
            after = int(last_event_id)
            oldest = self.history[0][0] if self.history else self.seq + 1
            if after > self.seq:
                client.skip_through = after
            elif after > 0 and after + 1 < oldest:  # (0: whatever the history holds)
                client.held = []
                task = asyncio.get_running_loop().create_task(self._replay(client, after, oldest))
                self._replays.add(task)
                task.add_done_callback(self._replays.discard)
            for seq, is_pers, frame in self.history:
                if seq > after and (personal or not is_pers):
                    client.put(frame)
        self.clients.add(client)
        return client

    async def _replay(self, client: BoardClient, after: int, oldest: int) -> None:
        """Put the events after ``after`` and before ``oldest`` (read from the bus) ahead of the
        frames held for the client meanwhile."""
        frames: list[bytes] = []
        try:
            events = await self.bus.replay(after, limit=oldest - 1 - after)
        except Exception:
            log.exception("board replay from the bus failed")
            events = None
        if not events or events[-1].id < oldest - 1 or events[0].id != after + 1:
            frames.append(b"event: board.reset\ndata: {}\n\n")  # too old: reload the snapshot
        else:
            frames.extend(encode_frame(e.id, e.subject, e.event) for e in events
                          if e.id < oldest and (client.personal or not is_personal(e.subject)))
        held, client.held = client.held or [], None
        for frame in (*frames, *held):
            client.put(frame)

    def disconnect(self, client: BoardClient) -> None:
        self.clients.discard(client)

    async def stream(
        self,
        client: BoardClient,
        *,
        still_valid: Callable[[], Any] | None = None,
        recheck_s: float = 60.0,
    ) -> AsyncIterator[bytes]:
        """The byte stream of one client: a hello, then batches of frames, pings when idle.

        ``still_valid`` (an async callable returning bool) is re-checked every ``recheck_s``
        seconds; when it says no (token expired or revoked) the stream ends.
        """
        try:
            hello = json.dumps({"subject": "board.hello", "last_event_id": self.seq, "sent_at": time.time()})
            yield f"retry: 2000\nevent: board.hello\ndata: {hello}\n\n".encode()
            checked = time.monotonic()
            while True:
                # no per-frame timeout (that cost a timer and a task per frame per client): the
                # hub's pinger puts a ping in every client's queue each PING_S
                chunks = [await client.queue.get()]
                while len(chunks) < MAX_BATCH and not client.queue.empty():
                    chunks.append(client.queue.get_nowait())
                yield b"".join(chunks)
                if still_valid is not None and time.monotonic() - checked > recheck_s:
                    checked = time.monotonic()
                    if not await still_valid():
                        yield b"event: board.auth_expired\ndata: {}\n\n"
                        return
        finally:
            self.disconnect(client)
