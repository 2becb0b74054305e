"""The demo's accounts and fleet: known logins for the local demo only."""

from __future__ import annotations

from precinct.core.roles import Role

DEVICE_PASSWORD = "demo-device"  # noqa: S105 - demo accounts, refused outside local use
GATEWAY_PASSWORD = "demo-gateway"  # noqa: S105
ANPR_USER = "anpr-gateway"
# Unit fleet: (id prefix, unit type, how many, Chinese callsign stem).
FLEET = (
    ("P", "patrol", 10, "巡逻"),
    ("S", "special", 3, "特警"),
    ("T", "traffic", 2, "交警"),
    ("C", "community", 3, "社区"),
)

Account = tuple[str, Role, str, str | None]  # username, role, password, unit id


def fleet_ids() -> list[tuple[str, str, str]]:
    """``(unit_id, unit_type, callsign)`` of the demo fleet."""
    out = []
    for prefix, utype, n, stem in FLEET:
        out += [(f"{prefix}{i:02d}", utype, f"{stem}{i:02d}") for i in range(1, n + 1)]
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


def device_accounts() -> list[Account]:
    """The simulated patrol devices and the ANPR gateway; the driver creates them over the API
    once the server is up (password hashing is slow; it should not delay start-up)."""
    accounts: list[Account] = [(device_user(uid), Role.patrol, DEVICE_PASSWORD, uid) for uid, _t, _c in fleet_ids()]
    accounts.append((ANPR_USER, Role.analyst, GATEWAY_PASSWORD, None))
    return accounts
