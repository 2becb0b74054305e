"""The live board: bus events pushed to connected clients as Server-Sent Events, by the REST policy.

One :class:`BoardHub` per app subscribes to the bus once, encodes each event once, keeps the last
events for reconnecting clients (``Last-Event-ID``) and, at most every ``FLUSH_S`` (100 ms; the
first event after a quiet spell at once), hands each client the joined chunk of the new frames it
may see: clients with the same access (same role's actions, same own unit) share one chunk, so
each client costs one queue put and one socket write per flush, however busy the bus is. A slow
client loses its oldest chunks, never stalls the others.

What a client may see comes from :mod:`precinct.command.board_policy`: each event family is
governed by the same policy entry as the REST route for the same data (``anpr.*`` as
``GET /anpr/alerts``, ``orders.*`` as ``GET /orders``, owner-scoped for patrol units, ...).

Personal-data events (hotlist alerts, with plates) are audited per recipient before they are
handed over: one ``disclosure`` record per recipient and flush naming the user, the events and
what they disclosed (the plates), written in one transaction per flush; replays after
``Last-Event-ID`` are audited the same way, marked ``"delivery": "replay"``. When the records
cannot be written the personal frames are withheld.

A stream ends (``board.auth_expired``) when its session ends: at once on a ``sessions.revoked``
bus event (logout, on any worker), and otherwise within ``SESSION_CHECK_S`` seconds (one query
for all of this worker's streams: revoked, idle, past the absolute limit, user deactivated).

Event ids are the bus's ids (:mod:`precinct.core.bus`): with JetStream, the stream sequence, the
same on every API worker. A client reconnecting with ``Last-Event-ID`` (to this worker or another,
or after a restart) gets exactly the events after it that it may see: from the hub's history, or
read back from the bus when they are older; if the bus no longer holds them all, a
``board.reset`` event tells the client to reload the snapshot (``GET /board``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from precinct.command.board_policy import STREAM_PURPOSE, StreamAccess, audit_resource, family_of, public_access
from precinct.core import audit
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.roles import AuditAction
from precinct.core.streams import SESSIONS_REVOKED, session_digest

log = logging.getLogger("precinct.board")
CLIENT_QUEUE = 5_000
HISTORY = 2_000
PING_S = 15.0
MAX_BATCH = 50
FLUSH_S = 0.1
SESSION_CHECK_S = 2.0
RESET_FRAME = b"event: board.reset\ndata: {}\n\n"
ENDED_FRAME = b"event: board.auth_expired\ndata: {}\n\n"


def encode_frame(event_id: int, subject: str, event: dict[str, Any]) -> bytes:
    """One Server-Sent Events frame."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {subject}\ndata: {data}\n\n".encode()


@dataclass(slots=True)
class Item:
    """One encoded event with what decides who may see it."""

    seq: int
    subject: str
    action: str | None
    personal: bool
    owners: frozenset[str] | None
    frame: bytes
    disclosed: dict[str, Any] | None = None


def make_item(event_id: int, subject: str, event: dict[str, Any]) -> Item:
    fam = family_of(subject)
    personal = fam.personal
    return Item(
        event_id, subject, fam.action, personal,
        fam.owners(event) if fam.owners is not None else None,
        encode_frame(event_id, subject, event) if fam.action is not None else b"",
        (fam.disclosed(event) if fam.disclosed is not None else {}) if personal else None,
    )


@dataclass(frozen=True)
class Disclosure:
    """Personal events handed to one recipient (one audit record)."""

    principal: Principal
    action: str
    delivery: str  # "live" or "replay"
    events: tuple[Item, ...]


def write_disclosures(db: Database, disclosures: list[Disclosure]) -> None:
    """One ``disclosure`` audit record per recipient, all in one transaction (raises AuditFailure)."""
    records = []
    for d in disclosures:
        hotlists = {i.disclosed.get("hotlist_id") for i in d.events if i.disclosed}
        records.append(dict(
            actor=d.principal.username, role=d.principal.role.value, action=AuditAction.disclosure,
            resource=audit_resource(d.action), result_count=len(d.events), purpose=STREAM_PURPOSE.value,
            case_id=f"hotlist:{hotlists.pop()}" if len(hotlists) == 1 and None not in hotlists else None,
            params={"channel": "board.stream", "delivery": d.delivery,
                    "session": (d.principal.session_id or "")[:8],
                    "events": [{"id": i.seq, "subject": i.subject, **(i.disclosed or {})} for i in d.events]},
        ))
    with db.session() as s:
        audit.append_many(s, records)


Auditor = Callable[[list[Disclosure]], None]
SessionCheck = Callable[[set[str]], set[str]]


class BoardClient:
    def __init__(self, access: StreamAccess) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(CLIENT_QUEUE)
        self.dropped = 0
        self.access = access
        principal = access.principal
        self.session_id = principal.session_id if principal is not None else None
        self.session_digest = session_digest(self.session_id) if self.session_id else None
        self.skip_through = 0  # ids up to this one were already seen (history, or another worker ahead)
        self.held: list[bytes] | None = None  # frames held back while older ones are read or audited
        self.ended = False

    def sees(self, item: Item) -> bool:
        return self.access.sees(item.action, item.owners)

    def _put(self, frame: bytes) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
                self.dropped += 1
        self.queue.put_nowait(frame)

    def put(self, frame: bytes) -> None:
        if self.ended:
            return
        if self.held is not None:
            self.held.append(frame)
            return
        self._put(frame)

    def end(self) -> None:
        """End the stream (its session ended): it sends ``board.auth_expired`` and closes."""
        if not self.ended:
            self.ended = True
            self._put(b"")  # wakes the stream


@dataclass
class _Plan:
    sends: list[tuple[BoardClient, list[Item], bytes]] = field(default_factory=list)
    disclosures: list[Disclosure] = field(default_factory=list)


class BoardHub:
    """Fans bus events out to live-board clients.

    Parameters
    ----------
    bus
        The app's event bus.
    auditor
        ``auditor(disclosures)`` writes the per-recipient audit records of personal events
        (see :func:`write_disclosures`); run in a thread before the events are handed over.
        None: no audit (internal listeners, tests and benchmarks only; the API always gives one).
    session_check
        ``session_check(session_ids) -> live ids``; run every ``session_check_s`` seconds.
    """

    def __init__(self, bus: Any, *, auditor: Auditor | None = None, session_check: SessionCheck | None = None,
                 session_check_s: float = SESSION_CHECK_S) -> None:
        self.bus = bus
        self.auditor = auditor
        self.session_check = session_check
        self.session_check_s = session_check_s
        self.clients: set[BoardClient] = set()
        self.history: collections.deque[Item] = collections.deque(maxlen=HISTORY)
        self.seq = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: list[Item] = []
        self._batches: collections.deque[list[Item]] = collections.deque()
        self._drainer: asyncio.Task[None] | None = None
        self._replays: set[asyncio.Task[None]] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = float("-inf")

    async def start(self) -> None:
        self.seq = int(getattr(self.bus, "last_id", 0))
        self._tasks = [asyncio.create_task(self._pump(), name="board-hub"),
                       asyncio.create_task(self._ping(), name="board-ping"),
                       asyncio.create_task(self._watch_sessions(), name="board-sessions")]

    async def _ping(self) -> None:
        """Keep idle streams open through proxies."""
        while True:
            await asyncio.sleep(PING_S)
            for client in list(self.clients):
                if client.queue.empty():
                    client.put(b": ping\n\n")

    async def _watch_sessions(self) -> None:
        """End the streams of sessions that ended (expired, revoked elsewhere, user deactivated)."""
        while True:
            await asyncio.sleep(self.session_check_s)
            if self.session_check is None:
                continue
            sids = {c.session_id for c in self.clients if c.session_id and not c.ended}
            if not sids:
                continue
            try:
                live = await asyncio.to_thread(self.session_check, sids)
            except Exception:
                log.exception("board could not check its streams' sessions")
                continue
            for client in list(self.clients):
                if client.session_id in sids and client.session_id not in live:
                    client.end()

    def end_sessions(self, digests: set[str]) -> int:
        """End the streams of the sessions with these digests; returns how many."""
        n = 0
        for client in list(self.clients):
            if client.session_digest is not None and client.session_digest in digests:
                client.end()
                n += 1
        return n

    async def stop(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        for task in (*self._tasks, *self._replays, *([self._drainer] if self._drainer else [])):
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _pump(self) -> None:
        async for bus_item in self.bus.subscribe_events(""):
            subject, event = bus_item.subject, bus_item.event
            try:
                self.seq = bus_item.id
                if subject == SESSIONS_REVOKED:
                    self.end_sessions({str(event.get("session"))})
                    continue
                item = make_item(bus_item.id, subject, event)
                if item.action is None:
                    continue
                self.history.append(item)
                self._pending.append(item)
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
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._batches.append(batch)
        if self._drainer is not None:
            return  # an earlier batch is being audited: this one follows it, in order
        plan = self._plan(batch)
        if not plan.disclosures:
            self._batches.clear()
            self._deliver(plan, audited=True)
            return
        self._drainer = asyncio.get_running_loop().create_task(self._drain(plan))

    def _plan(self, batch: list[Item]) -> _Plan:
        """Who gets which frames of ``batch`` (clients with the same access share one chunk)."""
        plan = _Plan()
        groups: dict[Any, tuple[list[Item], bytes]] = {}
        first = batch[0].seq
        for client in list(self.clients):
            if client.ended:
                continue
            if client.skip_through and first <= client.skip_through:  # rare: some of these already seen
                items = [i for i in batch if i.seq > client.skip_through and client.sees(i)]
                chunk = b"".join(i.frame for i in items)
            else:
                client.skip_through = 0
                group = groups.get(client.access.key)
                if group is None:
                    mine = [i for i in batch if client.sees(i)]
                    group = groups[client.access.key] = (mine, b"".join(i.frame for i in mine))
                items, chunk = group
            if not items:
                continue
            plan.sends.append((client, items, chunk))
            plan.disclosures.extend(self._disclosures(client, items, "live"))
        return plan

    def _disclosures(self, client: BoardClient, items: list[Item], delivery: str) -> list[Disclosure]:
        principal = client.access.principal
        if self.auditor is None or principal is None:
            return []
        by_action: dict[str, list[Item]] = {}
        for i in items:
            if i.personal and i.action is not None:
                by_action.setdefault(i.action, []).append(i)
        return [Disclosure(principal, action, delivery, tuple(its)) for action, its in by_action.items()]

    async def _audit(self, disclosures: list[Disclosure]) -> bool:
        if not disclosures or self.auditor is None:
            return True
        try:
            await asyncio.to_thread(self.auditor, disclosures)
            return True
        except Exception:
            log.exception("board could not audit %d personal deliveries; they are withheld", len(disclosures))
            return False

    def _deliver(self, plan: _Plan, *, audited: bool) -> None:
        for client, items, chunk in plan.sends:
            if not audited and any(i.personal for i in items):
                chunk = b"".join(i.frame for i in items if not i.personal)
            if chunk and client in self.clients:
                client.put(chunk)

    async def _drain(self, plan: _Plan) -> None:
        """Audit, then deliver, the queued batches in order."""
        try:
            while True:
                audited = await self._audit(plan.disclosures)
                self._deliver(plan, audited=audited)
                self._batches.popleft()
                if not self._batches:
                    return
                # what queued up meanwhile goes as one batch: one audit transaction, however far behind
                merged = [i for batch in self._batches for i in batch]
                self._batches.clear()
                self._batches.append(merged)
                plan = self._plan(merged)
        except Exception:
            log.exception("board could not deliver a batch")
            self._batches.clear()
        finally:
            self._drainer = None

    def connect(self, last_event_id: str | None = None, *, access: StreamAccess | None = None) -> BoardClient:
        """A new client that receives what ``access`` allows (default: every non-personal event).

        With ``last_event_id``, the events after it come first: from the history, or (older than
        the history) read back from the bus before anything newer is sent; personal ones are
        audited as a replay before they are handed over.
        """
        client = BoardClient(access or public_access())
        if last_event_id and last_event_id.isdigit():
            after = int(last_event_id)
            oldest = self.history[0].seq if self.history else self.seq + 1
            if after > self.seq:
                client.skip_through = after
            else:
                need_bus = after > 0 and after + 1 < oldest  # (0: whatever the history holds)
                items = [i for i in self.history if i.seq > after and client.sees(i)]
                if items:  # the next flush may hold some of these too
                    client.skip_through = items[-1].seq
                if need_bus or self._disclosures(client, items, "replay"):
                    client.held = []
                    task = asyncio.get_running_loop().create_task(
                        self._replay(client, after if need_bus else None, oldest, items))
                    self._replays.add(task)
                    task.add_done_callback(self._replays.discard)
                else:
                    for i in items:
                        client.put(i.frame)
        self.clients.add(client)
        return client

    async def _replay(self, client: BoardClient, after: int | None, oldest: int, recent: list[Item]) -> None:
        """Put the events after ``after`` and before ``oldest`` (read from the bus) and ``recent``
        (from the history), audited, ahead of the frames held for the client meanwhile."""
        head: list[bytes] = []
        items: list[Item] = []
        if after is not None:
            try:
                events = await self.bus.replay(after, limit=oldest - 1 - after)
            except Exception:
                log.exception("board replay from the bus failed")
                events = None
            if not events or events[-1].id < oldest - 1 or events[0].id != after + 1:
                head.append(RESET_FRAME)  # too old: reload the snapshot
            else:
                items = [i for e in events if e.id < oldest
                         for i in (make_item(e.id, e.subject, e.event),) if client.sees(i)]
        items.extend(recent)
        audited = await self._audit(self._disclosures(client, items, "replay"))
        frames = [*head, *(i.frame for i in items if audited or not i.personal)]
        held, client.held = client.held or [], None
        for frame in (*frames, *held):
            client.put(frame)

    def disconnect(self, client: BoardClient) -> None:
        self.clients.discard(client)

    async def stream(self, client: BoardClient) -> AsyncIterator[bytes]:
        """The byte stream of one client: a hello, then batches of frames, pings when idle; when
        its session ends, ``board.auth_expired`` and the end of the stream."""
        try:
            hello = json.dumps({"subject": "board.hello", "last_event_id": self.seq, "sent_at": time.time()})
            yield f"retry: 2000\nevent: board.hello\ndata: {hello}\n\n".encode()
            while True:
                # no per-frame timeout (that cost a timer and a task per frame per client): the
                # hub's pinger puts a ping in every client's queue each PING_S
                chunks = [await client.queue.get()]
                while len(chunks) < MAX_BATCH and not client.queue.empty():
                    chunks.append(client.queue.get_nowait())
                if client.ended:
                    yield ENDED_FRAME
                    return
                yield b"".join(chunks)
        finally:
            self.disconnect(client)
