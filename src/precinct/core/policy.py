"""The access policy: one table that says, per action, which roles may do it.

Every API route and every CLI command names an action from :data:`POLICY` (``allow("calls.create")``
in a view, ``cli_principal(db, as_user, "calls.create")`` in a command), so the API and the CLI read
the same entry and cannot disagree. The route-table test and the CLI-command test walk this table:
a route or command without an entry fails a test.

An entry with ``personal=True`` is a read of personal data: the caller must also give a case and a
purpose, the purpose must be one the role may use (:data:`precinct.core.roles.PURPOSE_ROLES`) and one
of the entry's ``purposes`` when it lists them, and the read is audited under ``resource``.

New domains add their actions in their own section below (keep the sections in layer order).
This module imports nothing heavy: the CLI reads it before any command runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from precinct.core.roles import Purpose, Role

_R = Role


@dataclass(frozen=True)
class Rule:
    """Who may perform one action.

    Attributes
    ----------
    roles
        The roles allowed.
    personal
        True when the action reads personal data (needs a case and a purpose; audited).
    resource
        The name written to the audit log (defaults to the action).
    purposes
        For personal reads: the purposes this action serves (empty: any purpose the role may use).
    owner_scoped
        True when a patrol unit (or another field role) may reach only its own objects through it;
        the service enforces the scope, this flag documents it and drives the object-level tests.
    """

    roles: frozenset[Role]
    personal: bool = False
    resource: str = ""
    purposes: frozenset[Purpose] = field(default_factory=frozenset)
    owner_scoped: bool = False


def _rule(*roles: Role, personal: bool = False, resource: str = "",
          purposes: tuple[Purpose, ...] = (), owner_scoped: bool = False) -> Rule:
    if not roles:
        raise ValueError("a rule needs at least one role")
    return Rule(frozenset(roles), personal, resource, frozenset(purposes), owner_scoped)


EVERYONE = tuple(Role)
INTAKE = (_R.call_taker, _R.dispatcher, _R.supervisor, _R.admin)
COMMAND = (_R.dispatcher, _R.supervisor, _R.admin)
READERS = (_R.call_taker, _R.dispatcher, _R.supervisor, _R.patrol, _R.analyst, _R.admin)
FIELD = (_R.patrol, _R.dispatcher, _R.supervisor)
ISSUERS = (_R.dispatcher, _R.supervisor)
PARTIES = (_R.dispatcher, _R.supervisor, _R.patrol, _R.call_taker, _R.analyst, _R.admin)
PLANNERS = (_R.supervisor, _R.dispatcher, _R.analyst, _R.admin)
INVESTIGATORS = (_R.analyst, _R.supervisor, _R.dispatcher)
INGESTERS = (_R.admin, _R.analyst, _R.supervisor, _R.patrol)
HOTLIST_EDITORS = (_R.analyst, _R.supervisor, _R.admin)
ALERT_READERS = (_R.dispatcher, _R.patrol, _R.analyst, _R.supervisor)
MAP = (_R.call_taker, _R.dispatcher, _R.patrol, _R.analyst, _R.supervisor, _R.admin)

POLICY: dict[str, Rule] = {
    # --- identity ------------------------------------------------------------------------------
    "auth.session": _rule(*EVERYONE),
    "users.list": _rule(_R.admin, _R.supervisor),
    "users.manage": _rule(_R.admin),  # create, disable / enable, unlock, change role, reset password
    "auth.password": _rule(*EVERYONE),  # change one's own password (the current one is checked)
    # --- oversight -----------------------------------------------------------------------------
    "audit.records": _rule(_R.auditor, _R.supervisor, personal=True, resource="audit.records",
                           purposes=(Purpose.audit_review,)),
    "audit.verify": _rule(_R.auditor, _R.supervisor, _R.admin),
    "retention.run": _rule(_R.admin),
    # --- city ----------------------------------------------------------------------------------
    "city.map": _rule(*MAP),
    "map.roads": _rule(*EVERYONE),
    # --- command: intake and incidents ---------------------------------------------------------
    "incident_types.read": _rule(*READERS),
    "calls.create": _rule(*INTAKE),
    "calls.import": _rule(*INTAKE),
    "geocode.suggest": _rule(*INTAKE),  # street / junction names as a call-taker types; no personal data
    "calls.caller": _rule(_R.call_taker, _R.dispatcher, _R.supervisor, _R.patrol, personal=True,
                          resource="calls.caller"),
    # repeat-caller history while a call is taken (issue 21): the calls from a number in the last 30 days;
    # caller data, so a case with an incident linked and the purpose incident_response (cases/codes.py)
    "calls.history": _rule(_R.call_taker, _R.dispatcher, _R.supervisor, personal=True, resource="calls.history",
                           purposes=(Purpose.incident_response,)),
    "incidents.read": _rule(*READERS),
    "incidents.update": _rule(*INTAKE),
    "incidents.notes": _rule(*INTAKE),  # a short text note on an incident (issue 21), shown on the boards
    "incidents.command": _rule(*COMMAND),
    "incidents.eido": _rule(*COMMAND),
    # --- command: units, dispatch, board -------------------------------------------------------
    "dispatch.recommend": _rule(_R.call_taker, *COMMAND),
    "dispatch.assign": _rule(*COMMAND),
    "dispatch.status": _rule(*FIELD, owner_scoped=True),
    "dispatch.reassign": _rule(_R.supervisor),  # another unit in place of a late one (issue 21)
    "units.read": _rule(*READERS),
    "units.manage": _rule(*COMMAND),
    "units.position": _rule(*FIELD, owner_scoped=True),
    "units.status": _rule(*FIELD, _R.admin, owner_scoped=True),  # admin: the unit management screen
    "board.read": _rule(*READERS),
    # --- command: the patrol terminal (issue 19): scene attachments, the route to one's dispatch --
    # a patrol unit reaches only incidents it is (or was) dispatched to (404 otherwise)
    "attachments.create": _rule(*FIELD, owner_scoped=True, resource="attachments"),
    "attachments.read": _rule(*FIELD, owner_scoped=True, resource="attachments"),
    "dispatch.route": _rule(*FIELD, owner_scoped=True),
    # --- command: orders -----------------------------------------------------------------------
    "orders.create": _rule(*ISSUERS),
    "orders.read": _rule(*PARTIES, owner_scoped=True),
    "orders.acknowledge": _rule(*PARTIES, owner_scoped=True),
    "orders.advance": _rule(*ISSUERS),
    "orders.escalate": _rule(*ISSUERS, _R.admin),
    # a supervisor on overdue work (issue 21): remind the silent recipients, hand their part over
    "orders.remind": _rule(_R.supervisor),
    "orders.reassign": _rule(_R.supervisor),
    # --- anpr ----------------------------------------------------------------------------------
    "anpr.reads": _rule(*INGESTERS, resource="anpr.reads"),
    "anpr.links": _rule(*INGESTERS, resource="anpr.links"),
    "anpr.admin": _rule(_R.admin, resource="anpr.reads"),
    "anpr.export": _rule(_R.admin, resource="anpr.export"),
    "anpr.hotlist.edit": _rule(*HOTLIST_EDITORS, resource="anpr.hotlist"),
    "anpr.hotlist.read": _rule(*HOTLIST_EDITORS, _R.dispatcher, _R.patrol, personal=True,
                               resource="anpr.hotlist"),
    "anpr.alerts": _rule(*ALERT_READERS, personal=True, resource="anpr.alerts"),
    # acknowledging a hotlist alert (issue 21): the roles that receive alerts; the answer carries no
    # plate (who and when only), the change is audited with the hotlist entry as its case
    "anpr.alerts.ack": _rule(*ALERT_READERS, resource="anpr.alerts"),
    "anpr.cameras.edit": _rule(_R.admin, _R.supervisor, resource="anpr.cameras"),
    "anpr.cameras.read": _rule(*EVERYONE, resource="anpr.cameras"),
    "anpr.associate": _rule(*INVESTIGATORS, personal=True, resource="anpr.associate"),
    "anpr.series": _rule(*INVESTIGATORS, personal=True, resource="anpr.series"),
    "anpr.trajectory": _rule(*INVESTIGATORS, personal=True, resource="anpr.trajectory"),
    "anpr.convoy": _rule(*INVESTIGATORS, personal=True, resource="anpr.convoy"),
    "anpr.cloned": _rule(*INVESTIGATORS, personal=True, resource="anpr.cloned"),
    "anpr.person_links": _rule(*INVESTIGATORS, personal=True, resource="anpr.person_links"),
    "anpr.case_reads": _rule(*INVESTIGATORS, personal=True, resource="anpr.case_reads"),
    "warehouse.manage": _rule(_R.admin, resource="warehouse"),
    # --- patrol --------------------------------------------------------------------------------
    "patrol.posts": _rule(*PLANNERS),
    "patrol.risk": _rule(*PLANNERS),
    "patrol.zones": _rule(*PLANNERS),
    "patrol.checkpoints": _rule(*PLANNERS),
    "patrol.checkpoints.issue": _rule(_R.supervisor, _R.dispatcher, _R.admin),
    "patrol.missing_person": _rule(*PLANNERS, _R.patrol, personal=True, resource="patrol.missing_person",
                                   purposes=(Purpose.missing_person,)),
    # --- cases ---------------------------------------------------------------------------------
    # anyone may open a case and work on the cases they are on (the service checks lead/member);
    # what a case lets them read is still bounded by PURPOSE_ROLES and the case check (cases/codes.py)
    "cases.open": _rule(*EVERYONE),
    "cases.read": _rule(*EVERYONE),
    "cases.manage": _rule(*EVERYONE),
    "cases.work": _rule(*EVERYONE),
    "cases.timeline": _rule(*EVERYONE, personal=True, resource="cases.timeline"),
    "cases.supervise": _rule(_R.supervisor, _R.auditor, _R.admin),
    "cases.deadlines": _rule(_R.supervisor, _R.admin),
    "cases.orders": _rule(_R.dispatcher, _R.supervisor),  # one-click orders from a case: as orders.create
    # a case's notes and photos (issue 19): its lead and members only (checked on the case)
    "cases.attachments.create": _rule(*EVERYONE, owner_scoped=True, resource="attachments"),
    "cases.attachments.read": _rule(*EVERYONE, owner_scoped=True, resource="attachments"),
    # --- analytics -----------------------------------------------------------------------------
    "analytics.read": _rule(_R.analyst, _R.supervisor, _R.dispatcher, _R.admin),
    # --- fraud ---------------------------------------------------------------------------------
    "fraud.types": _rule(*EVERYONE),
    "fraud.reports.create": _rule(_R.call_taker, _R.dispatcher, _R.analyst, _R.supervisor, _R.admin,
                                  resource="fraud.reports"),
    "fraud.import": _rule(_R.analyst, _R.supervisor, _R.admin, resource="fraud.reports"),
    "fraud.reports.read": _rule(*INVESTIGATORS, personal=True, resource="fraud.reports",
                                purposes=(Purpose.investigation,)),
    "fraud.clusters": _rule(*INVESTIGATORS, personal=True, resource="fraud.clusters",
                            purposes=(Purpose.investigation,)),
    "fraud.requests.manage": _rule(_R.analyst, _R.supervisor, resource="fraud.requests"),
    "fraud.requests.read": _rule(*INVESTIGATORS, personal=True, resource="fraud.requests",
                                 purposes=(Purpose.investigation,)),
    "fraud.contacts.record": _rule(_R.analyst, _R.supervisor, _R.dispatcher, resource="fraud.contacts"),
    "fraud.warnings.manage": _rule(_R.call_taker, _R.dispatcher, _R.patrol, _R.analyst, _R.supervisor,
                                   resource="fraud.warnings"),
    "fraud.warnings.read": _rule(_R.call_taker, _R.dispatcher, _R.patrol, _R.analyst, _R.supervisor,
                                 personal=True, resource="fraud.warnings"),
    "fraud.stats": _rule(*READERS),
    # --- public --------------------------------------------------------------------------------
    "public.alerts.author": _rule(_R.dispatcher, _R.supervisor, _R.analyst, _R.admin),
    "public.alerts.approve": _rule(_R.supervisor, _R.admin),
    "public.alerts.read": _rule(*READERS),
    "public.areas.manage": _rule(_R.supervisor, _R.admin),
    "public.bulletins.author": _rule(_R.supervisor),
    "public.bulletins.approve": _rule(_R.supervisor, _R.admin),
    "public.bulletins.read": _rule(_R.supervisor, _R.dispatcher, _R.admin),
    "public.callbacks.work": _rule(_R.call_taker, _R.supervisor),
    "public.callbacks.caller": _rule(_R.call_taker, _R.supervisor, personal=True, resource="calls.caller",
                                     purposes=(Purpose.callback,)),
    "public.callbacks.stats": _rule(_R.supervisor, _R.analyst, _R.admin),
    # --- web -----------------------------------------------------------------------------------
    # the patrol terminal: a missing person's description and photos, for a case the caller is on
    "m.missing_person": _rule(*FIELD, _R.analyst, personal=True, resource="cases.missing_person",
                              purposes=(Purpose.missing_person,)),
}


# CLI commands that act as no Precinct user, and why. Every other command takes ``--as USER`` and names
# its action from POLICY (the CLI-command test walks the command tree and checks both).
OPEN_COMMANDS: dict[str, str] = {
    "serve": "starts the server; whoever may start it already holds the database",
    "demo": "the demo on embedded defaults; creates its own users",
    "route": "road routing on the local road network; no personal data",
    "city build": "builds the road network from OpenStreetMap; no personal data",
    "city info": "prints the road network's size; no personal data",
    "city geocode": "looks up a street or junction name; no personal data",
    "calls types": "prints the incident-type code table",
    "users create": "bootstraps accounts (the first administrator); needs the database itself",
    "users unlock": "operator action on the database; the actor named with --as is audited",
    "audit verify": "checks the hash chain; reads hashes, not records",
    "audit checkpoint": "signs the chain's head (a hash, not records) into the anchor directory",
    "backup create": "operator job on the database and data directory themselves; prints no records",
    "backup restore": "operator job into an empty installation (no users exist yet); verifies the audit chain",
    "retention run": "a scheduled system job acting as the 'retention' system actor; each erasure is audited",
    "patrol zones": "patrol zones from demand points in a file; no personal data",
    "sim generate": "writes synthetic data sets",
    "public stats": "prints the published open data (k-anonymous counts) that anyone may read without login",
    "public alerts cap": "prints a published, signed CAP alert (public) or a draft preview (no personal data)",
    "public alerts feed": "prints the public Atom feed of active alerts",
    "public report": "prints the monthly transparency report (aggregate figures published to everyone)",
}


def rule_for(action: str) -> Rule:
    """The rule for ``action``; a name that is not in the table is a programming error."""
    try:
        return POLICY[action]
    except KeyError:
        raise KeyError(f"action {action!r} is not in precinct.core.policy.POLICY; add it there") from None


def resource_of(action: str) -> str:
    """The audit resource name of ``action``."""
    return rule_for(action).resource or action
