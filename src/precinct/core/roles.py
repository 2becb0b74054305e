"""Roles and purpose codes."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    call_taker = "call_taker"
    dispatcher = "dispatcher"
    patrol = "patrol"
    analyst = "analyst"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"


ALL_ROLES: frozenset[Role] = frozenset(Role)


class Purpose(StrEnum):
    """Why personal data is being read. Every personal-data read names one."""

    investigation = "investigation"
    missing_person = "missing_person"
    hotlist_alert = "hotlist_alert"
    audit_review = "audit_review"
    incident_response = "incident_response"
    callback = "callback"


class AuditAction(StrEnum):
    """EU Directive 2016/680 Art. 25 processing operations, plus logins and refusals."""

    collection = "collection"
    alteration = "alteration"
    consultation = "consultation"
    disclosure = "disclosure"
    combination = "combination"
    erasure = "erasure"
    login = "login"
    refusal = "refusal"
    administration = "administration"


# Which roles may read personal data for which purpose (checked on top of each route's own roles).
PURPOSE_ROLES: dict[Purpose, frozenset[Role]] = {
    Purpose.investigation: frozenset({Role.analyst, Role.supervisor, Role.dispatcher, Role.admin}),
    Purpose.missing_person: frozenset({Role.analyst, Role.supervisor, Role.dispatcher, Role.patrol, Role.admin}),
    Purpose.hotlist_alert: frozenset({Role.dispatcher, Role.patrol, Role.analyst, Role.supervisor, Role.admin}),
    Purpose.audit_review: frozenset({Role.auditor, Role.supervisor}),
    Purpose.incident_response: frozenset(
        {Role.call_taker, Role.dispatcher, Role.patrol, Role.supervisor, Role.admin}),
    Purpose.callback: frozenset({Role.call_taker, Role.supervisor}),
}
