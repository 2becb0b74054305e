"""The demo's accounts and fleet: known logins for the local demo only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from precinct.core.roles import Role

DEVICE_PASSWORD = "demo-device"  # noqa: S105 - demo accounts, refused outside local use
GATEWAY_PASSWORD = "demo-gateway"  # noqa: S105
ANPR_USER = "anpr-gateway"


@dataclass(frozen=True)
class Squad:
    """One kind of unit in the demo fleet and its strength on each shift.

    Attributes
    ----------
    prefix, size, stem
        Unit ids are ``prefix`` + two digits (``P01`` ...), ``size`` of them; Chinese callsigns are
        ``stem`` + the same digits.
    unit_type
        The dispatch unit type (what response plans ask for).
    mode
        How the unit moves: ``car``, ``ebike`` or ``foot``.
    group
        The unit group (orders can go to ``group:<name>``).
    strength
        Units on duty on the day, evening and night shifts (see ``precinct.sim.shifts.SHIFTS``).
    """

    prefix: str
    unit_type: str
    mode: str
    size: int
    stem: str
    group: str
    strength: tuple[int, int, int]


# More units on the evening peak than in the day, fewest at night; foot and e-bike patrols work
# the day and the evening only. Shifts overlap at handover, so a squad needs at least as many
# units as two consecutive shifts together.
FLEET: tuple[Squad, ...] = (
    Squad("P", "patrol", "car", 12, "巡逻", "车巡队", (5, 7, 3)),
    Squad("E", "patrol", "ebike", 6, "骑巡", "骑巡队", (3, 3, 0)),
    Squad("F", "community", "foot", 4, "步巡", "步巡队", (2, 2, 0)),
    Squad("S", "special", "car", 4, "特警", "特警队", (1, 2, 1)),
    Squad("T", "traffic", "car", 3, "交警", "交警队", (1, 1, 1)),
)

Account = tuple[str, Role, str, str | None]  # username, role, password, unit id


def squad_units(squad: Squad) -> list[str]:
    """The unit ids of one squad."""
    return [f"{squad.prefix}{i:02d}" for i in range(1, squad.size + 1)]


def fleet_ids(squads: Sequence[Squad] | None = None) -> list[tuple[str, str, str]]:
    """``(unit_id, unit_type, callsign)`` of a fleet (default: the demo fleet)."""
    out = []
    for sq in FLEET if squads is None else squads:
        out += [(uid, sq.unit_type, f"{sq.stem}{uid[len(sq.prefix) :]}") for uid in squad_units(sq)]
    return out


def device_user(unit_id: str) -> str:
    """The patrol device account of a unit."""
    return f"unit-{unit_id.lower()}"


def demo_password(role: Role | str) -> str:
    """The known password of a demo role account (local demo only)."""
    return f"demo-{Role(role).value}"


def role_accounts() -> list[Account]:
    """One demo login per role, created before start-up."""
    return [(r.value, r, demo_password(r), "P01" if r is Role.patrol else None) for r in Role]


def device_accounts(squads: Sequence[Squad] | None = None) -> list[Account]:
    """The simulated patrol devices and the ANPR gateway; the driver creates them over the API
    once the server is up (password hashing is slow; it should not delay start-up)."""
    ids = fleet_ids(squads)
    accounts: list[Account] = [(device_user(uid), Role.patrol, DEVICE_PASSWORD, uid) for uid, _t, _c in ids]
    accounts.append((ANPR_USER, Role.analyst, GATEWAY_PASSWORD, None))
    return accounts
