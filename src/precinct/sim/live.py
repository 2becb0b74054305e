"""The live driver: plays a scenario into a running Precinct at an accelerated clock.

Simulated time runs ``speed`` times faster than the wall clock; everything is sent *now* (the
server stamps calls and positions itself, reads carry the wall-clock time their simulated moment
maps to), so dashboards see a busy but current city. The driver only uses the HTTP API:

- calls from the scenario's call process, as the call-taker, each with an ``Idempotency-Key``;
- the fleet (:mod:`precinct.sim.fleet`) works its shift roster (:mod:`precinct.sim.shifts`),
  coming on and off duty through the unit status route; the dispatcher takes each new incident,
  asks for recommendations and dispatches an on-duty unit; the unit's device acknowledges, follows
  the road route to the scene posting positions, arrives, stays a while, clears and goes back;
- the ANPR gateway posts the scenario's plate and tag reads in batches (planted stories included),
  after registering the cameras and the watchlist as a hotlist, and the person–vehicle links
  (registrations, patrol checks, the e-bike thief's seven bikes) at the time each is made.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from precinct.sim.accounts import ANPR_USER, Squad, device_accounts
from precinct.sim.api import ApiClient
from precinct.sim.fleet import DISPATCH_DELAY_S, Fleet, Pending, create_account
from precinct.sim.generate import Scenario, build_scenario, day_reads, link_events, watchlist_rows
from precinct.sim.geo import CityLike
from precinct.sim.rhythm import DAY_S

log = logging.getLogger("precinct.sim.live")

MAX_BATCH = 5000
PREPARE_THREADS = 4  # concurrent requests while the driver registers its accounts and units


class LiveDriver:
    """Feeds one scenario into a server until stopped.

    Parameters
    ----------
    api
        Client logged in as the demo accounts.
    city
        The same road graph the server uses.
    seed, speed
        Scenario seed; simulated seconds per wall-clock second.
    days, reads_per_day, calls_per_day
        Size of one round. A round's stories fall inside its first days, so a visitor sees them
        within the hour at the default speed; then the next round (next seed, same cameras)
        follows and the demo runs for as long as it is left on.
    start_hour
        Simulated time of day the demo starts at.
    squads
        The fleet and its shift strengths (default: ``accounts.FLEET``).
    """

    def __init__(
        self,
        api: ApiClient,
        city: CityLike,
        *,
        seed: int = 1,
        speed: float = 30.0,
        days: int = 3,
        reads_per_day: int = 60_000,
        calls_per_day: float = 400.0,
        start_hour: float = 7.0,
        squads: Sequence[Squad] | None = None,
    ) -> None:
        self.api, self.city, self.seed, self.speed = api, city, seed, speed
        self.days, self.reads_per_day, self.calls_per_day = days, reads_per_day, calls_per_day
        self.t_start = start_hour * 3600.0
        self.sc: Scenario | None = None
        self.stats = {"calls": 0, "dispatches": 0, "positions": 0, "reads": 0, "cleared": 0, "links": 0}
        self._call_i = 0
        self._buf = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._loaded_day = 0
        self._links: list[tuple[int, str, str, str]] = []
        self._link_i = 0
        self.round = 0
        self.offset = 0.0
        self._wall0 = 0.0
        self._mono0 = 0.0
        self.fleet = Fleet(api, city, seed=seed, stats=self.stats, squads=squads)
        self.now = self.t_start  # the simulated time of the latest step
        self._incident_of_event: dict[int, str] = {}

    # -- clock -------------------------------------------------------------------------------
    def sim_now(self) -> float:
        return self.t_start + (time.monotonic() - self._mono0) * self.speed

    def wall_iso(self, t_sim: float) -> str:
        """The wall-clock instant a simulated time maps to, ISO 8601 UTC.

        From the demo's start on, simulated time runs ``speed`` times faster than the wall clock;
        before it (the history a scenario begins with, such as vehicle registrations years ago)
        it runs at the wall clock's pace, so that spans in the past keep their length.
        """
        dt_s = t_sim - self.t_start
        wall = self._wall0 + (dt_s / self.speed if dt_s >= 0 else dt_s)
        return dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(timespec="milliseconds")

    # -- set-up ------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Build the scenario and register cameras, hotlist and units with the server."""
        self._load_round()
        assert self.sc is not None
        g = self.sc.geo

        cams = [
            {
                "camera_id": g.camera_id[i],
                "lat": float(g.camera_lat[i]),
                "lon": float(g.camera_lon[i]),
                "kind": g.camera_kind[i],
            }
            for i in range(g.n_cameras)
        ]
        self.api.request("cameras", "admin", "PUT", "/anpr/cameras", json=cams)
        # The fleet first (the units on duty before the others), then the ANPR gateway.
        self.fleet.prepare(g, self.t_start, threads=PREPARE_THREADS)
        for account in device_accounts(self.fleet.roster.fleet):
            if account[3] is None:
                create_account(self.api, account)

    def _load_round(self) -> None:
        """The next round's scenario (same cameras, new people and events) and its hotlist.

        Simulated time never restarts: round ``k`` covers ``[k * days, (k + 1) * days)`` days,
        and ``offset`` converts between the driver's clock and the round's scenario time.
        """
        prev = self.sc
        self.sc = build_scenario(
            days=self.days,
            seed=self.seed + self.round,
            reads_per_day=self.reads_per_day,
            calls_per_day=self.calls_per_day,
            city=self.city,
            geo_size={"n_car": 200, "n_through": 40, "n_bike": 100},
            geo=None if prev is None else prev.geo,
        )
        self.offset = self.round * self.days * DAY_S
        start = max(self.t_start - self.offset, 0.0)
        self._call_i = next((i for i, c in enumerate(self.sc.calls) if c.ts >= start), len(self.sc.calls))
        self._buf = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._loaded_day = 0
        self._links, self._link_i = link_events(self.sc), 0
        rows = watchlist_rows(self.sc)
        for i in range(0, len(rows), MAX_BATCH):
            entries = [{"plate": p, "reason": r, "list": lst} for p, r, lst in rows[i : i + MAX_BATCH]]
            self.api.request("hotlist", "analyst", "POST", "/anpr/hotlist", json={"entries": entries})

    # -- main loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event, *, tick_s: float = 1.0) -> None:
        """Prepare, then play until ``stop`` is set or the scenario ends."""
        self.prepare()
        self._wall0, self._mono0 = time.time(), time.monotonic()
        while not stop.is_set():
            t0 = time.monotonic()
            now = self.sim_now()
            if now >= self.offset + self.days * DAY_S:
                self.round += 1
                log.info("round %d of the living city begins", self.round + 1)
                self._load_round()
            self.step(now)
            stop.wait(max(tick_s - (time.monotonic() - t0), 0.05))

    def step(self, now: float) -> None:
        """Everything due up to simulated time ``now``."""
        self.now = now
        self.fleet.shifts(now)
        self._calls(now)
        self.fleet.dispatch(now)
        self.fleet.move(now)
        self._reads(now)
        self._send_links(now)

    def _calls(self, now: float) -> None:
        assert self.sc is not None
        calls = self.sc.calls
        while self._call_i < len(calls) and calls[self._call_i].ts + self.offset <= now:
            c = calls[self._call_i]
            self._call_i += 1
            body: dict[str, Any] = {
                "lat": round(c.lat, 6),
                "lon": round(c.lon, 6),
                "type": c.type,
                "priority": c.priority,
                "description": c.description,
            }
            # The call-taker recognises a further call about an incident already open.
            if c.duplicate and c.event in self._incident_of_event:
                body["merge_into"] = self._incident_of_event[c.event]
            r = self.api.request(
                "calls",
                "call_taker",
                "POST",
                "/calls",
                idem=f"sim-{self.seed + self.round}-{c.call_id}",
                json=body,
            )
            if r is None:
                continue
            self.stats["calls"] += 1
            out = r.json()
            self._incident_of_event.setdefault(c.event, out["incident_id"])
            # A replayed call was made by an earlier run on this data directory: handled there.
            replayed = r.headers.get("Idempotent-Replayed") == "true"
            if not out.get("merged") and not replayed and c.priority in DISPATCH_DELAY_S:
                self.fleet.pending.append(Pending(out["incident_id"], c.priority, c.lat, c.lon, c.ts + self.offset))

    def person_id(self, person: str) -> str:
        """A scenario's person id as this round sends it: every round has new people, so the ids
        of later rounds carry the round (``P9000002-R2``) and never merge with earlier ones."""
        return person if self.round == 0 else f"{person}-R{self.round}"

    def _send_links(self, now: float) -> None:
        """Person–vehicle links (registrations, patrol checks, the planted stories' links) as the
        registry and the patrol devices' check records send them, once their time has come."""
        rows, start = self._links, self._link_i
        end = start
        while end < len(rows) and rows[end][0] + self.offset <= now:
            end += 1
        tag = self.seed + self.round
        for lo in range(start, end, MAX_BATCH):
            batch = [
                {
                    "link_id": f"sim{tag}-L{i}",
                    "person_id": self.person_id(rows[i][1]),
                    "plate": rows[i][2],
                    "ts": self.wall_iso(rows[i][0] + self.offset),
                    "source": rows[i][3],
                }
                for i in range(lo, min(lo + MAX_BATCH, end))
            ]
            if self.api.request("links", ANPR_USER, "POST", "/anpr/links", json={"links": batch}) is not None:
                self.stats["links"] += len(batch)
        self._link_i = end

    def _reads(self, now: float) -> None:
        assert self.sc is not None
        sc = self.sc
        now -= self.offset  # scenario time of this round
        while self._loaded_day < sc.days and self._loaded_day * DAY_S < now + 3600:
            d = self._loaded_day
            ts, ids, cam, _conf = day_reads(sc, d)
            pl = sc.planter
            p_ts = np.array(pl.read_ts, dtype=np.int64)
            sel = p_ts // (DAY_S * 1000) == d
            ts = np.concatenate([self._buf[0], ts, p_ts[sel]])
            ids = np.concatenate([self._buf[1], ids, np.array(pl.read_plate, dtype=np.int64)[sel]])
            cam = np.concatenate([self._buf[2], cam, np.array(pl.read_cam, dtype=np.int64)[sel]])
            order = np.argsort(ts, kind="stable")
            # The demo starts mid-morning of the first round.
            keep = order[ts[order] >= (self.t_start - self.offset) * 1000]
            self._buf = (ts[keep], ids[keep], cam[keep])
            self._loaded_day += 1
        ts, ids, cam = self._buf
        n = int(np.searchsorted(ts, now * 1000, side="right"))
        if n == 0:
            return
        g = sc.geo
        for lo in range(0, n, MAX_BATCH):
            hi = min(lo + MAX_BATCH, n)
            reads = [
                {
                    "plate": sc.ids[int(ids[i])],
                    "ts": self.wall_iso(ts[i] / 1000 + self.offset),
                    "camera_id": g.camera_id[int(cam[i])],
                    "lat": round(float(g.camera_lat[cam[i]]), 6),
                    "lon": round(float(g.camera_lon[cam[i]]), 6),
                    "kind": sc.kinds[int(ids[i])],
                    "read_id": f"sim{self.seed + self.round}-{int(ts[i])}-{int(ids[i])}-{int(cam[i])}",
                }
                for i in range(lo, hi)
            ]
            if self.api.request("anpr", ANPR_USER, "POST", "/anpr/reads", json={"reads": reads}) is not None:
                self.stats["reads"] += len(reads)
        self._buf = (ts[n:], ids[n:], cam[n:])


def summary(stats: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in stats.items())
