"""Units work shift rosters: on and off duty through the public API, positions only on duty.

The live checks replay what the driver actually sent to the app (every request, with the
simulated time it was sent at) and check it against the roster by brute force.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from precinct.errors import BadInput
from precinct.sim.accounts import FLEET, Squad, squad_units
from precinct.sim.demo import ensure_demo_users
from precinct.sim.fleet import LAST_JOB_S
from precinct.sim.live import LiveDriver
from precinct.sim.shifts import SHIFTS, Roster, check_fleet

from .conftest import RecordingClient

H = 3600.0
SQUADS = (
    Squad("P", "patrol", "car", 5, "巡逻", "车巡队", (2, 3, 1)),
    Squad("E", "patrol", "ebike", 2, "骑巡", "骑巡队", (1, 1, 0)),
    Squad("S", "special", "car", 2, "特警", "特警队", (1, 1, 1)),
)


def _covering(duties: list[Any], t: float) -> list[Any]:
    return [d for d in duties if d.start <= t < d.end]


def test_roster_staffs_every_shift_and_never_double_books() -> None:
    duties = Roster(5).until(10 * 24 * H)
    assert duties == Roster(5).until(10 * 24 * H)  # same seed, same roster
    assert duties != Roster(6).until(10 * 24 * H)  # the seed rotates who works when
    by_shift: dict[tuple[int, str, str], list[str]] = defaultdict(list)
    for d in duties:
        by_shift[(d.day, d.shift, d.unit_id[0])].append(d.unit_id)
    for day in range(10):
        for k, shift in enumerate(SHIFTS):
            for sq in FLEET:
                got = by_shift.get((day, shift.name, sq.prefix), [])
                assert len(got) == sq.strength[k], (day, shift.name, sq.prefix)
                assert set(got) <= set(squad_units(sq))
    per_unit: dict[str, list[Any]] = defaultdict(list)
    for d in duties:
        per_unit[d.unit_id].append(d)
    for uid, ds in per_unit.items():  # brute force: no two duties of a unit overlap
        for i, a in enumerate(ds):
            for b in ds[i + 1 :]:
                assert a.end <= b.start or b.end <= a.start, (uid, a, b)
    # Every unit works some shift over ten days (the rotation is fair enough to use them all).
    assert set(per_unit) == {u for sq in FLEET for u in squad_units(sq)}
    # Fewer on duty at night than in the evening peak, more than the day at handover overlaps.
    for day in range(1, 10):
        t = day * 24 * H
        assert len(_covering(duties, t + 3 * H)) < len(_covering(duties, t + 20 * H))
        assert len(_covering(duties, t + 10 * H)) < len(_covering(duties, t + 20 * H))
        overlap = len(_covering(duties, t + 15.25 * H))
        assert overlap == sum(sq.strength[0] + sq.strength[1] for sq in FLEET)


def test_a_fleet_too_small_for_the_handover_is_refused() -> None:
    with pytest.raises(BadInput, match=r"fleet\[1\] \(E\).*only 2 units"):
        check_fleet((SQUADS[0], Squad("E", "patrol", "ebike", 2, "骑巡", "骑巡队", (1, 2, 0))))


def test_live_units_follow_the_roster(client: TestClient, app: FastAPI, city: Any) -> None:
    app.state.city = city
    passwords = ensure_demo_users(app.state.db)
    api = RecordingClient("http://testserver", passwords, http=client)
    step, t0, t1 = 120.0, 6 * H, 32 * H
    driver = LiveDriver(
        api, city, seed=4, speed=1e5, days=2, reads_per_day=500, calls_per_day=240, start_hour=6.0, squads=SQUADS
    )
    api.clock = lambda: driver.now
    driver.prepare()
    driver._wall0, driver._mono0 = time.time(), time.monotonic()
    driver.fleet.position_every_s = 0.0  # steps here are simulated, not paced by the wall clock
    t = t0
    while t < t1:
        t += step
        driver.step(t)
    assert not api.disabled, api.disabled
    assert driver.stats["patrols"] > 0  # between jobs units patrol their beats (positions on the way)
    failed = [s for s in api.sent if not s[4]]
    assert not failed and api.errors == 0, failed[:5]

    # What was sent, per unit: status changes, positions, dispatches, clears.
    status: dict[str, list[tuple[float, str]]] = defaultdict(list)
    fixes: dict[str, list[float]] = defaultdict(list)
    dispatched: dict[str, list[float]] = defaultdict(list)
    clears: dict[str, list[float]] = defaultdict(list)
    for ts, _method, path, body, _ok in api.sent:
        if m := re.fullmatch(r"/units/([^/]+)/status", path):
            status[m[1]].append((ts, body["status"]))
        elif m := re.fullmatch(r"/units/([^/]+)/position", path):
            fixes[m[1]].append(ts)
        elif re.fullmatch(r"/incidents/[^/]+/dispatch", path):
            for uid in body["unit_ids"]:
                dispatched[uid].append(ts)
        elif re.fullmatch(r"/incidents/[^/]+/clear", path):
            clears[body["unit_id"]].append(ts)

    # On-duty intervals as the server was told: available ... out_of_service.
    spans: dict[str, list[list[float]]] = defaultdict(list)
    for uid, changes in status.items():
        on = None
        for ts, st in changes:
            if st == "available":
                assert on is None, (uid, ts, "on twice")
                on = ts
            else:
                if on is not None:
                    spans[uid].append([on, ts])
                on = None
        if on is not None:
            spans[uid].append([on, float("inf")])

    def on_duty_at(uid: str, ts: float) -> bool:
        return any(a <= ts <= b for a, b in spans[uid])

    # Positions only while on duty; dispatches only on duty and not in the last quarter hour.
    for uid, times in fixes.items():
        assert all(on_duty_at(uid, ts) for ts in times), uid
    roster = Roster(4, SQUADS).until(t1)
    for uid, times in dispatched.items():
        for ts in times:
            (duty,) = [d for d in roster if d.unit_id == uid and d.start <= ts < d.end]
            assert ts < duty.end - LAST_JOB_S and on_duty_at(uid, ts), (uid, ts)

    # The roster is respected: each duty in the run is one interval, starting on time and ending
    # on time, or later only for a unit finishing a job it was sent to before the end.
    late = 0
    for uid in {u for sq in SQUADS for u in squad_units(sq)}:
        duties = [d for d in roster if d.unit_id == uid and d.end > t0 and d.start <= t1]
        assert len(duties) == len(spans[uid]), (uid, duties, status[uid])
        for d, (on, off) in zip(duties, spans[uid], strict=True):
            assert max(d.start, t0) <= on < max(d.start, t0) + step, (uid, d, on)
            if off == float("inf") and d.end > t1:
                continue  # on duty when the run stopped, as rostered
            assert off >= d.end, (uid, d, off)
            if off >= d.end + step:  # late (or still on when the run stopped): only to finish a job
                late += 1
                jobs = [ts for ts in dispatched[uid] if on <= ts < d.end]
                assert jobs, (uid, d, off)
                assert not [ts for ts in dispatched[uid] if d.end <= ts <= off]
                if off < float("inf"):
                    done = [ts for ts in clears[uid] if ts >= jobs[-1]]
                    assert done and done[0] <= off, (uid, d, off)
    assert late > 0  # the case is exercised: some unit finished a job after its shift ended

    # Fewer units on duty at 03:00 than at 20:00 (the evening peak), as sent to the server.
    def count(ts: float) -> int:
        return sum(on_duty_at(uid, ts) for uid in spans)

    assert count(27 * H) < count(20 * H)
    assert count(27 * H) == sum(sq.strength[2] for sq in SQUADS)
