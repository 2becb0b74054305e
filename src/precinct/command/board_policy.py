"""Which live-board events a caller may receive: the same policy entries as the REST routes.

Every event family (subject prefix) published on the bus is mapped here, in one place, to the
action of :data:`precinct.core.policy.POLICY` that governs the REST route for the same data:

============== ================ =========================================================
prefix         action           as REST
============== ================ =========================================================
incidents.     board.read       ``GET /board`` (the board's snapshot of incidents)
units.         board.read       ``GET /board`` (units)
board.         board.read       the hub's own notices (``board.reset``)
orders.        orders.read      ``GET /orders``: owner-scoped, a patrol unit sees only
                                orders addressed to it or its unit
anpr.          anpr.alerts      ``GET /anpr/alerts``: personal data (plates), purpose
                                ``hotlist_alert``; each delivery is audited per recipient
fraud.         fraud.stats      ``GET /fraud/waves`` (``fraud.wave``: aggregates only)
sessions.      (none)           internal (logout notices); never sent to any client
============== ================ =========================================================

A subject with no family is sent to nobody (and logged once); ``tests/hardening/test_stream.py``
walks every subject the code publishes and fails on one without a family here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from precinct.core.identity import Principal
from precinct.core.policy import resource_of, rule_for
from precinct.core.roles import PURPOSE_ROLES, Purpose, Role

log = logging.getLogger("precinct.board")

# The purpose a live-board client reads personal events for (it names no case: hotlist alerts
# are raised for the hotlist entry, which the ANPR side audits as the alert's case).
STREAM_PURPOSE = Purpose.hotlist_alert
# Roles whose order reads are limited to their own orders (as command.orders.get_order_for / GET /orders).
OWNER_SCOPED_ROLES = frozenset({Role.patrol})


def _order_owners(event: dict[str, Any]) -> frozenset[str]:
    order = event.get("order") or {}
    return frozenset(str(r.get("recipient")) for r in order.get("recipients") or () if isinstance(r, dict))


def _alert_disclosed(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in ("alert_id", "plate", "hotlist_id", "list") if event.get(k) is not None}


@dataclass(frozen=True)
class Family:
    """One event family: its subject prefix, the policy action that governs it (None: internal,
    sent to no client), who owns an event's object (owner-scoped actions) and what a delivery
    discloses (personal actions; written to the recipient's audit record)."""

    prefix: str
    action: str | None
    owners: Callable[[dict[str, Any]], frozenset[str]] | None = None
    disclosed: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def personal(self) -> bool:
        return self.action is not None and rule_for(self.action).personal


FAMILIES: tuple[Family, ...] = (
    Family("incidents.", "board.read"),
    Family("units.", "board.read"),
    Family("board.", "board.read"),
    Family("orders.", "orders.read", owners=_order_owners),
    Family("anpr.", "anpr.alerts", disclosed=_alert_disclosed),
    Family("fraud.", "fraud.stats"),
    Family("sessions.", None),
)
_UNMAPPED = Family("", None)
_warned: set[str] = set()


def family_of(subject: str) -> Family:
    """The family of ``subject`` (an unmapped subject's family is sent to nobody)."""
    for fam in FAMILIES:
        if subject.startswith(fam.prefix):
            return fam
    if subject not in _warned and len(_warned) < 1000:
        _warned.add(subject)
        log.warning("live board: no policy for event %r (add it to command.board_policy.FAMILIES); not sent", subject)
    return _UNMAPPED


def role_may(role: Role, action: str) -> bool:
    """Whether ``role`` may receive events governed by ``action`` (for a personal action, also
    the stream's purpose must be one the role may use and one the action serves)."""
    rule = rule_for(action)
    if role not in rule.roles:
        return False
    if rule.personal:
        return role in PURPOSE_ROLES[STREAM_PURPOSE] and (not rule.purposes or STREAM_PURPOSE in rule.purposes)
    return True


@dataclass(frozen=True)
class StreamAccess:
    """What one stream client may receive.

    Attributes
    ----------
    actions
        The policy actions whose events it receives.
    own
        For an owner-scoped role, the recipients that are its own (``user:<name>``,
        ``unit:<id>``); None when it sees every object.
    principal
        Who it is (named in the audit records of personal deliveries); None for internal clients.
    """

    actions: frozenset[str]
    own: frozenset[str] | None = None
    principal: Principal | None = None

    @property
    def key(self) -> tuple[frozenset[str], frozenset[str] | None]:
        """Clients with the same key receive the same frames."""
        return self.actions, self.own

    def sees(self, action: str | None, owners: frozenset[str] | None) -> bool:
        if action is None or action not in self.actions:
            return False
        return owners is None or self.own is None or bool(self.own & owners)


def access_for(principal: Principal) -> StreamAccess:
    """The stream access of ``principal``, from the policy entries of :data:`FAMILIES`."""
    actions = frozenset(f.action for f in FAMILIES if f.action is not None and role_may(principal.role, f.action))
    own = None
    if principal.role in OWNER_SCOPED_ROLES:
        own = frozenset([f"user:{principal.username}"] + ([f"unit:{principal.unit_id}"] if principal.unit_id else []))
    return StreamAccess(actions, own, principal)


def public_access() -> StreamAccess:
    """Every non-personal family, unscoped (internal listeners such as benchmarks)."""
    return StreamAccess(frozenset(f.action for f in FAMILIES if f.action is not None and not f.personal))


def audit_resource(action: str) -> str:
    return resource_of(action)
