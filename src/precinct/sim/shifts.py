"""Shift rosters for the demo fleet: who is on duty when.

Three shifts a day overlap by half an hour at each handover (the incoming crew is on before the
outgoing one goes off). Each squad puts ``strength`` units on each shift (``accounts.FLEET``):
most in the evening peak, fewest at night. Units are assigned day by day, shift by shift, from
the squad's units that are off duty when the shift begins, longest-rested first (ties broken by
a seeded draw), so the roster is the same for a seed and rotates fairly between units.

Time is simulated seconds from midnight of the scenario's first day; the night shift of the day
before (day ``-1``) covers the first morning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from precinct.errors import BadInput
from precinct.sim import accounts
from precinct.sim.accounts import Squad, squad_units
from precinct.sim.rhythm import DAY_S, HOUR_S


@dataclass(frozen=True)
class Shift:
    """A daily shift: its name, the hour it begins and its length in hours."""

    name: str
    start_h: float
    hours: float


SHIFTS: tuple[Shift, ...] = (
    Shift("day", 7.0, 8.5),
    Shift("evening", 15.0, 8.5),
    Shift("night", 23.0, 8.5),
)
HANDOVER_S = 30 * 60  # the overlap of consecutive shifts


@dataclass(frozen=True)
class Duty:
    """One unit on one shift: on duty from ``start`` to ``end`` (simulated seconds)."""

    unit_id: str
    shift: str
    day: int
    start: float
    end: float


def check_fleet(fleet: Sequence[Squad]) -> None:
    """Refuse a fleet whose squads cannot staff two overlapping shifts at once.

    Raises
    ------
    BadInput
        Names the squad and the shifts it cannot staff.
    """
    n = len(SHIFTS)
    for i, sq in enumerate(fleet):
        if len(sq.strength) != n or min(sq.strength) < 0:
            raise BadInput(
                f"fleet[{i}] ({sq.prefix}): strength needs {n} counts >= 0, got {sq.strength}",
                detail={"field": f"fleet[{i}].strength", "reason": "value"},
            )
        for k in range(n):
            a, b = sq.strength[k], sq.strength[(k + 1) % n]
            if a + b > sq.size:
                raise BadInput(
                    f"fleet[{i}] ({sq.prefix}): {a} on {SHIFTS[k].name} + {b} on {SHIFTS[(k + 1) % n].name} "
                    f"overlap at handover but the squad has only {sq.size} units",
                    detail={"field": f"fleet[{i}].size", "reason": "too small for the roster"},
                )


class Roster:
    """The duty roster of a fleet, built a day at a time as the clock reaches it.

    Parameters
    ----------
    seed
        Same seed, same roster.
    fleet
        The squads (default: the demo fleet, ``accounts.FLEET``).
    """

    def __init__(self, seed: int, fleet: Sequence[Squad] | None = None) -> None:
        self.fleet = tuple(accounts.FLEET if fleet is None else fleet)
        check_fleet(self.fleet)
        self.seed = seed
        self.duties: list[Duty] = []
        self._last_end: dict[str, float] = {u: -np.inf for sq in self.fleet for u in squad_units(sq)}
        self._next_day = -1

    def _plan_day(self, day: int) -> None:
        rng = np.random.default_rng([self.seed, 97, day + 1])
        for k, shift in enumerate(SHIFTS):
            if day < 0 and k < len(SHIFTS) - 1:
                continue  # of the day before the scenario only the night shift reaches into it
            start = day * DAY_S + shift.start_h * HOUR_S
            end = start + shift.hours * HOUR_S
            for sq in self.fleet:
                units = squad_units(sq)
                tie = rng.random(len(units))
                free = [i for i, u in enumerate(units) if self._last_end[u] <= start]
                free.sort(key=lambda i: (self._last_end[units[i]], tie[i]))
                for i in sorted(free[: sq.strength[k]]):
                    self.duties.append(Duty(units[i], shift.name, day, start, end))
                    self._last_end[units[i]] = end

    def until(self, t: float) -> list[Duty]:
        """Every duty that begins at or before simulated time ``t`` (in order of start)."""
        while self._next_day * DAY_S <= t:
            self._plan_day(self._next_day)
            self._next_day += 1
        return self.duties

    def on_duty(self, t: float) -> list[Duty]:
        """The duties covering time ``t`` (``start <= t < end``)."""
        return [d for d in self.until(t) if d.start <= t < d.end]
