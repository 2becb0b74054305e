"""The live driver: plays a scenario into a running Precinct at an accelerated clock.

Simulated time runs ``speed`` times faster than the wall clock; everything is sent *now* (the
server stamps calls and positions itself, reads carry the wall-clock time their simulated moment
maps to), so dashboards see a busy but current city. The driver only uses the HTTP API:

- calls from the scenario's call process, as the call-taker, each with an ``Idempotency-Key``;
- the dispatcher takes each new incident, asks for recommendations and dispatches;
- each unit's device acknowledges, drives the road route to the scene posting positions, arrives,
  stays a while, clears and drives back to its post;
- the ANPR gateway posts the scenario's plate and tag reads in batches (planted stories included),
  after registering the cameras and the watchlist as a hotlist.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from precinct.errors import BadInput, Unreachable
from precinct.sim.accounts import ANPR_USER, device_accounts, device_user, fleet_ids
from precinct.sim.api import ApiClient
from precinct.sim.generate import Scenario, build_scenario, day_reads, watchlist_rows
from precinct.sim.geo import CityLike, haversine_m
from precinct.sim.rhythm import DAY_S

log = logging.getLogger("precinct.sim.live")

DISPATCH_DELAY_S = {"red": 45, "orange": 90, "yellow": 240, "blue": 480}
MAX_BATCH = 5000


@dataclass
class SimUnit:
    """A unit as the simulator moves it (the server's view comes from what the driver posts)."""

    id: str
    unit_type: str
    post: tuple[float, float]
    pos: tuple[float, float]
    state: str = "idle"  # idle, dispatched, enroute, onscene, returning
    incident: str | None = None
    path: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    cum_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    t0: float = 0.0
    until: float = 0.0


@dataclass
class Pending:
    incident_id: str
    priority: str
    lat: float
    lon: float
    at: float  # simulated time the call came in


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
    ) -> None:
        self.api, self.city, self.seed, self.speed = api, city, seed, speed
        self.days, self.reads_per_day, self.calls_per_day = days, reads_per_day, calls_per_day
        self.t_start = start_hour * 3600.0
        self.sc: Scenario | None = None
        self.units: list[SimUnit] = []
        self.pending: list[Pending] = []
        self.stats = {"calls": 0, "dispatches": 0, "positions": 0, "reads": 0, "cleared": 0}
        self._call_i = 0
        self._buf = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._loaded_day = 0
        self.round = 0
        self.offset = 0.0
        self._wall0 = 0.0
        self._mono0 = 0.0
        self._last_pos = 0.0
        self.position_every_s = 2.0  # wall-clock seconds between a moving unit's fixes
        self.rng = np.random.default_rng([seed, 98])
        self._incident_of_event: dict[int, str] = {}

    # -- clock -------------------------------------------------------------------------------
    def sim_now(self) -> float:
        return self.t_start + (time.monotonic() - self._mono0) * self.speed

    def wall_iso(self, t_sim: float) -> str:
        """The wall-clock instant a simulated time maps to, ISO 8601 UTC."""
        wall = self._wall0 + (t_sim - self.t_start) / self.speed
        return dt.datetime.fromtimestamp(wall, dt.UTC).isoformat(timespec="milliseconds")

    # -- set-up ------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Build the scenario and register cameras, hotlist and units with the server."""
        self._load_round()
        assert self.sc is not None
        g = self.sc.geo
        for name, role, password, unit in device_accounts():
            self.api.request(
                "users",
                "admin",
                "POST",
                "/users",
                ok_conflict=True,
                json={
                    "username": name,
                    "role": role.value,
                    "password": password,
                    "unit_id": unit,
                    "display_name": f"simulated {name}",
                },
            )
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
        rng = np.random.default_rng([self.seed, 99])
        posts = rng.choice(g.node_lat.size, size=len(fleet_ids()), replace=False, p=g.node_weight)
        for (uid, utype, callsign), node in zip(fleet_ids(), posts, strict=True):
            post = (float(g.node_lat[node]), float(g.node_lon[node]))
            self.units.append(SimUnit(uid, utype, post, post))
            self.api.request(
                "units",
                "dispatcher",
                "POST",
                "/units",
                ok_conflict=True,
                json={
                    "id": uid,
                    "callsign": callsign,
                    "unit_type": utype,
                    "station": "城区派出所",
                    "lat": post[0],
                    "lon": post[1],
                },
            )
            self.api.request(
                "positions",
                device_user(uid),
                "POST",
                f"/units/{uid}/position",
                json={"lat": post[0], "lon": post[1]},
            )

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
        self._calls(now)
        self._dispatch(now)
        self._move(now)
        self._reads(now)

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
            if not out.get("merged") and c.priority in DISPATCH_DELAY_S:
                self.pending.append(Pending(out["incident_id"], c.priority, c.lat, c.lon, c.ts + self.offset))

    def _dispatch(self, now: float) -> None:
        waiting: list[Pending] = []
        for p in self.pending:
            if now - p.at < DISPATCH_DELAY_S[p.priority]:
                waiting.append(p)
                continue
            unit = self._pick(p)
            if unit is None:
                if now - p.at < 3600:  # nobody free: try again later, give up after an hour
                    waiting.append(p)
                continue
            r = self.api.request(
                "dispatch",
                "dispatcher",
                "POST",
                f"/incidents/{p.incident_id}/dispatch",
                idem=f"sim-{self.seed}-d-{p.incident_id}-{unit.id}",
                json={"unit_ids": [unit.id]},
            )
            if r is None:
                continue
            self.stats["dispatches"] += 1
            unit.state, unit.incident, unit.until = "dispatched", p.incident_id, now + 20
            unit.path = np.array([[p.lat, p.lon]])
        self.pending = waiting

    def _pick(self, p: Pending) -> SimUnit | None:
        idle = {u.id: u for u in self.units if u.state == "idle"}
        if not idle:
            return None
        r = self.api.request("recommend", "dispatcher", "GET", f"/incidents/{p.incident_id}/recommendations?limit=10")
        if r is not None:
            recs = r.json().get("recommendations", [])
            for rec in sorted(recs, key=lambda x: (not x.get("in_plan"), x.get("eta_s", 0))):
                if rec["unit_id"] in idle:
                    return idle[rec["unit_id"]]
        # No recommendation service (or none in the plan free): the nearest idle unit.
        d = {uid: float(haversine_m(p.lat, p.lon, *u.pos)) for uid, u in idle.items()}
        return idle[min(d, key=lambda k: d[k])]

    def _route(self, unit: SimUnit, to: tuple[float, float], now: float) -> None:
        try:
            route = self.city.route(unit.pos, to, metric="time")
            path = np.asarray(route.path, dtype=float).reshape(-1, 2)
            total = float(route.time_s)
        except (Unreachable, BadInput):  # no road path or off-road: go straight at 30 km/h
            path = np.array([unit.pos, to], dtype=float)
            total = float(haversine_m(*unit.pos, *to)) / 8.3
        seg = haversine_m(path[:-1, 0], path[:-1, 1], path[1:, 0], path[1:, 1])
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        unit.path = path
        unit.cum_t = cum / cum[-1] * total if cum[-1] > 0 else np.zeros_like(cum)
        unit.t0, unit.until = now, now + total

    def _step_call(self, unit: SimUnit, step: str) -> None:
        self.api.request(
            "dispatch",
            device_user(unit.id),
            "POST",
            f"/incidents/{unit.incident}/{step}",
            idem=f"sim-{self.seed}-{step}-{unit.incident}-{unit.id}",
            json={"unit_id": unit.id},
        )

    def _move(self, now: float) -> None:
        post_positions = time.monotonic() - self._last_pos >= self.position_every_s
        for u in self.units:
            if u.state == "dispatched" and now >= u.until:
                self._step_call(u, "acknowledge")
                target = (float(u.path[0, 0]), float(u.path[0, 1]))
                self._route(u, target, now)
                u.state = "enroute"
            elif u.state == "enroute" and now >= u.until:
                u.pos = (float(u.path[-1, 0]), float(u.path[-1, 1]))
                self._step_call(u, "arrive")
                u.state, u.until = "onscene", now + float(self.rng.uniform(900, 2700))
            elif u.state == "onscene" and now >= u.until:
                self._step_call(u, "clear")
                self.stats["cleared"] += 1
                self._route(u, u.post, now)
                u.state, u.incident = "returning", None
            elif u.state == "returning" and now >= u.until:
                u.pos, u.state = u.post, "idle"
            if u.state in ("enroute", "returning"):
                k = min(max(now - u.t0, 0.0), float(u.cum_t[-1]) if u.cum_t.size else 0.0)
                u.pos = (
                    float(np.interp(k, u.cum_t, u.path[:, 0])),
                    float(np.interp(k, u.cum_t, u.path[:, 1])),
                )
                if post_positions:
                    r = self.api.request(
                        "positions",
                        device_user(u.id),
                        "POST",
                        f"/units/{u.id}/position",
                        json={"lat": round(u.pos[0], 6), "lon": round(u.pos[1], 6)},
                    )
                    self.stats["positions"] += r is not None
        if post_positions:
            self._last_pos = time.monotonic()

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
