"""The simulated fleet: units on shifts that take dispatches, drive there and report positions.

Everything reaches the server through its public API, as the units' devices and the dispatcher
would send it:

- a unit comes on duty with ``POST /units/{id}/status {"status": "available"}`` and its first
  position, and goes off with ``out_of_service`` when its shift ends; a unit still on a job then
  finishes it (arrives, clears, drives back to its post) and goes off on arrival;
- the dispatcher sends a free on-duty unit to each new incident (not one in its last quarter hour
  of duty: the incoming shift takes those), the unit's device acknowledges, the unit follows the
  road route at its own pace (car, e-bike or on foot), arrives, stays a while and clears;
- between jobs a unit patrols its beat (out to a road node near its post and back, by car, e-bike
  or on foot, only if the round fits before its last quarter hour) and rests at its post;
- positions are sent only while a unit is on duty: along its routes, and now and then while it
  waits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from precinct.core.roles import Role
from precinct.errors import BadInput, Unreachable
from precinct.sim.accounts import DEVICE_PASSWORD, Account, Squad, device_user, squad_units
from precinct.sim.api import ApiClient
from precinct.sim.geo import CityLike, Geography, haversine_m
from precinct.sim.shifts import Roster

log = logging.getLogger("precinct.sim.live")

DISPATCH_DELAY_S = {"red": 45, "orange": 90, "yellow": 240, "blue": 480}
LAST_JOB_S = 15 * 60  # a unit this close to the end of its duty is not sent to new incidents
HEARTBEAT_S = 10 * 60  # simulated seconds between the fixes of a unit waiting at its post
# Top speed (m/s) of units that do not drive; a car follows the road graph's travel times.
MODE_SPEED = {"ebike": 5.0, "foot": 1.4}
# Between jobs a unit patrols its beat: out to a road node within this radius of its post and back,
# then a rest at the post; special units wait at their post.
BEAT_M = {
    ("car", "patrol"): 3000.0,
    ("car", "traffic"): 3000.0,
    ("ebike", "patrol"): 1500.0,
    ("foot", "community"): 600.0,
}
REST_S = (600.0, 1800.0)


def create_account(api: ApiClient, account: Account) -> None:
    """Create one simulated device or gateway login through the user API (exists: fine)."""
    name, role, password, unit = account
    api.request(
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


@dataclass
class SimUnit:
    """A unit as the simulator moves it (the server's view comes from what the driver posts)."""

    id: str
    unit_type: str
    mode: str
    post: tuple[float, float]
    pos: tuple[float, float]
    state: str = "off"  # off, idle, patrol, dispatched, enroute, onscene, returning
    incident: str | None = None
    duty_end: float = 0.0
    path: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    cum_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    t0: float = 0.0
    until: float = 0.0
    last_fix: float = -np.inf
    beat: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # road nodes it patrols (lat, lon)


@dataclass
class Pending:
    incident_id: str
    priority: str
    lat: float
    lon: float
    at: float  # simulated time the call came in


class Fleet:
    """The demo fleet driven against one server.

    Parameters
    ----------
    api, city
        The server's client and road graph.
    seed
        Posts and roster come from it.
    squads
        The fleet (default: the demo fleet).
    stats
        Counters shared with the driver (``dispatches``, ``positions``, ``cleared``, ``duty_starts``,
        ``duty_ends``, ``patrols``).
    """

    def __init__(
        self,
        api: ApiClient,
        city: CityLike,
        *,
        seed: int,
        stats: dict[str, int],
        squads: Sequence[Squad] | None = None,
    ) -> None:
        self.api, self.city, self.seed, self.stats = api, city, seed, stats
        self.roster = Roster(seed, squads)
        self.units: dict[str, SimUnit] = {}
        self.pending: list[Pending] = []
        self.rng = np.random.default_rng([seed, 98])
        self.position_every_s = 2.0  # wall-clock seconds between a moving unit's fixes
        self._last_pos = 0.0
        self._duty_i = 0
        for key in ("dispatches", "positions", "cleared", "duty_starts", "duty_ends", "patrols"):
            stats.setdefault(key, 0)

    # -- set-up ------------------------------------------------------------------------------
    def prepare(self, geo: Geography, now: float, *, threads: int = 1) -> None:
        """Register the units with the server (``threads`` at a time) and sign their devices in;
        those rostered at ``now`` come on duty, the rest are out of service."""
        rng = np.random.default_rng([self.seed, 99])
        squads = [(sq, uid) for sq in self.roster.fleet for uid in squad_units(sq)]
        posts = rng.choice(geo.node_lat.size, size=len(squads), replace=False, p=geo.node_weight)
        for (sq, uid), node in zip(squads, posts, strict=True):
            post = (float(geo.node_lat[node]), float(geo.node_lon[node]))
            u = self.units[uid] = SimUnit(uid, sq.unit_type, sq.mode, post, post)
            radius = BEAT_M.get((sq.mode, sq.unit_type), 0.0)
            if radius > 0:
                d = haversine_m(post[0], post[1], geo.node_lat, geo.node_lon)
                near = (d > radius / 4) & (d <= radius)
                u.beat = np.column_stack([geo.node_lat[near], geo.node_lon[near]])

        # A data directory the demo ran on before may hold units still on a job of that run.
        r = self.api.request("units", "dispatcher", "GET", "/units")
        leftover = {
            v["id"]: v["incident_id"]
            for v in (r.json()["units"] if r is not None else [])
            if v["status"] in ("dispatched", "en_route", "on_scene") and v["incident_id"]
        }

        def register(item: tuple[Squad, str]) -> None:
            sq, uid = item
            u = self.units[uid]
            create_account(self.api, (device_user(uid), Role.patrol, DEVICE_PASSWORD, uid))
            self.api.request(
                "units",
                "dispatcher",
                "POST",
                "/units",
                ok_conflict=True,
                json={
                    "id": uid,
                    "callsign": f"{sq.stem}{uid[len(sq.prefix) :]}",
                    "unit_type": sq.unit_type,
                    "station": "城区派出所",
                    "group": sq.group,
                    "lat": u.post[0],
                    "lon": u.post[1],
                },
            )
            self.api.login(device_user(uid))  # the device signs in (a slow password check)
            if uid in leftover:  # the crew closes the job the previous run left open
                self.api.request(
                    "dispatch",
                    device_user(uid),
                    "POST",
                    f"/incidents/{leftover[uid]}/clear",
                    json={"unit_id": uid, "note": "closed when the simulation restarted"},
                )

        duties = self.roster.until(now)
        self._duty_i = sum(d.start <= now for d in duties)  # duties are in order of start
        on = {d.unit_id: d.end for d in duties if d.start <= now < d.end}
        # Password checks make each device slow to set up: a few at a time, and the units on
        # duty first, so the map fills as soon as it can.
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(register, [x for x in squads if x[1] in on]))
            rest = [x for x in squads if x[1] not in on]
            later = pool.map(register, rest)  # submitted now: runs while the first come on duty
            for uid, end in on.items():
                self._go_on(self.units[uid], end, now)
            list(later)
        for _sq, uid in rest:
            self._status(self.units[uid], "out_of_service")

    # -- shifts ------------------------------------------------------------------------------
    def _status(self, u: SimUnit, status: str) -> bool:
        r = self.api.request("status", device_user(u.id), "POST", f"/units/{u.id}/status", json={"status": status})
        return r is not None

    def _go_on(self, u: SimUnit, end: float, now: float) -> None:
        u.duty_end = max(u.duty_end, end)
        if u.state != "off":
            return  # still on (a job ran into the next duty): the duty is simply longer
        u.pos, u.state, u.until = u.post, "idle", now + float(self.rng.uniform(0, REST_S[0]))
        self._status(u, "available")
        self.stats["duty_starts"] += 1
        self._fix(u, now)

    def _go_off(self, u: SimUnit) -> None:
        self._status(u, "out_of_service")
        u.state = "off"
        self.stats["duty_ends"] += 1

    def shifts(self, now: float) -> None:
        """Start the duties due by ``now``; end those over (a unit on a job finishes it first)."""
        duties = self.roster.until(now)
        while self._duty_i < len(duties) and duties[self._duty_i].start <= now:
            d = duties[self._duty_i]
            self._duty_i += 1
            if now < d.end:
                self._go_on(self.units[d.unit_id], d.end, now)
        for u in self.units.values():
            if u.state == "idle" and now >= u.duty_end:
                self._go_off(u)

    # -- dispatch ----------------------------------------------------------------------------
    def dispatch(self, now: float) -> None:
        """Send a unit to every incident whose dispatch delay is over."""
        waiting: list[Pending] = []
        for p in self.pending:
            if now - p.at < DISPATCH_DELAY_S[p.priority]:
                waiting.append(p)
                continue
            unit = self._pick(p, now)
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

    def _pick(self, p: Pending, now: float) -> SimUnit | None:
        free = {
            u.id: u
            for u in self.units.values()
            if u.state in ("idle", "patrol", "returning") and u.incident is None and now < u.duty_end - LAST_JOB_S
        }
        if not free:
            return None
        r = self.api.request("recommend", "dispatcher", "GET", f"/incidents/{p.incident_id}/recommendations?limit=10")
        if r is not None:
            recs = r.json().get("recommendations", [])
            for rec in sorted(recs, key=lambda x: (not x.get("in_plan"), x.get("eta_s", 0))):
                if rec["unit_id"] in free:
                    return free[rec["unit_id"]]
        # No recommendation service (or none in the plan free): the nearest free unit.
        d = {uid: float(haversine_m(p.lat, p.lon, *u.pos)) for uid, u in free.items()}
        return free[min(d, key=lambda k: d[k])]

    # -- movement ----------------------------------------------------------------------------
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
        if unit.mode in MODE_SPEED:  # along the same roads, at most at its own pace
            total = max(total, float(cum[-1]) / MODE_SPEED[unit.mode])
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

    def _fix(self, u: SimUnit, now: float) -> None:
        r = self.api.request(
            "positions",
            device_user(u.id),
            "POST",
            f"/units/{u.id}/position",
            json={"lat": round(u.pos[0], 6), "lon": round(u.pos[1], 6)},
        )
        self.stats["positions"] += r is not None
        u.last_fix = now

    def _start_beat(self, u: SimUnit, now: float) -> None:
        """Out to a random node of the unit's beat, if there and back fits before its last job."""
        lat, lon = u.beat[self.rng.integers(len(u.beat))]
        self._route(u, (float(lat), float(lon)), now)
        if now + 2 * (u.until - now) < u.duty_end - LAST_JOB_S:
            u.state = "patrol"
            self.stats["patrols"] += 1
        else:  # too close to the end of duty: stay at the post
            u.pos, u.until = u.post, u.duty_end

    def move(self, now: float) -> None:
        """Advance every unit to ``now``: job steps, routes, positions, going off after a job."""
        post_positions = time.monotonic() - self._last_pos >= self.position_every_s
        for u in self.units.values():
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
            elif u.state == "patrol" and now >= u.until:
                u.pos = (float(u.path[-1, 0]), float(u.path[-1, 1]))
                self._route(u, u.post, now)  # the beat's far end: back to the post
                u.state = "returning"
            elif u.state == "returning" and now >= u.until:
                u.pos, u.state = u.post, "idle"
                u.until = now + float(self.rng.uniform(*REST_S))
                self._fix(u, now)
                if now >= u.duty_end:  # the job that ran past the end of duty is done
                    self._go_off(u)
                continue
            elif u.state == "idle" and now >= u.until and len(u.beat):
                self._start_beat(u, now)
            if u.state in ("enroute", "returning", "patrol"):
                k = min(max(now - u.t0, 0.0), float(u.cum_t[-1]) if u.cum_t.size else 0.0)
                u.pos = (
                    float(np.interp(k, u.cum_t, u.path[:, 0])),
                    float(np.interp(k, u.cum_t, u.path[:, 1])),
                )
                if post_positions:
                    self._fix(u, now)
            elif u.state in ("idle", "dispatched", "onscene") and now - u.last_fix >= HEARTBEAT_S:
                self._fix(u, now)
        if post_positions:
            self._last_pos = time.monotonic()

    def on_duty(self) -> list[str]:
        """Ids of the units on duty now (as the simulator has told the server)."""
        return [u.id for u in self.units.values() if u.state != "off"]
