"""The cases domain's code tables and its access decision, as plain data and one pure function.

The decision (:func:`decide`) is what every personal-data read passes after the role and purpose
checks of :mod:`precinct.core.access`; :mod:`precinct.cases.gate` loads the case's facts from the
database and calls it. It is pure so that it can be tested against a brute-force table.

The rule, in order:

1. the case exists in the registry (ids are issued by Precinct; free text no longer passes);
2. the case is open (closing it ends everyone's access at once);
3. the purpose fits the case type: ``missing_person`` only on missing-person cases; on a
   ``review`` case (督察审查, opened by an auditor or supervisor) only ``audit_review``;
   ``audit_review`` on any case; every other purpose on any case but a review;
4. ``incident_response`` (and ``callback``) need an incident linked to the case;
5. the caller is the case's lead or a member, or reads for oversight: ``audit_review`` by a role
   that may use it (auditor, supervisor) needs no membership.
"""

from __future__ import annotations

from dataclasses import dataclass

from precinct.core.roles import PURPOSE_ROLES, Purpose, Role
from precinct.errors import BadInput

# type code -> (中文, English)
CASE_TYPES: dict[str, tuple[str, str]] = {
    "theft": ("盗窃", "theft"),
    "burglary": ("入室盗窃", "burglary"),
    "robbery": ("抢劫", "robbery"),
    "assault": ("伤害", "assault"),
    "fraud": ("诈骗", "fraud"),
    "missing_person": ("失踪人员", "missing person"),
    "traffic": ("交通", "traffic"),
    "public_order": ("治安", "public order"),
    "other": ("其他", "other"),
    "review": ("督察审查", "oversight review"),
}
TEAMS: dict[str, tuple[str, str]] = {
    "criminal": ("刑侦", "criminal investigation"),
    "technical": ("技侦", "technical investigation"),
    "cyber": ("网侦", "cyber investigation"),
    "video": ("图侦", "video investigation"),
    "intelligence": ("情报", "intelligence"),
    "station": ("派出所", "police station"),
    "patrol": ("巡特警", "patrol and special police"),
    "traffic": ("交警", "traffic police"),
    "economic": ("经侦", "economic crime"),
    "antifraud": ("反诈", "anti-fraud centre"),
    "command": ("指挥中心", "command centre"),
    "oversight": ("督察", "oversight"),
}
DISPOSITIONS: dict[str, tuple[str, str]] = {
    "solved": ("破案", "solved"),
    "referred": ("移送起诉", "referred for prosecution"),
    "found": ("已找到", "person found"),
    "no_crime": ("不构成犯罪", "no offence"),
    "unsolved": ("未破挂起", "unsolved, suspended"),
    "merged": ("并案", "merged into another case"),
    "other": ("其他", "other"),
}
STAGES: dict[str, tuple[str, str]] = {
    "registered": ("立案", "registered"),
    "investigating": ("侦查", "investigating"),
    "concluding": ("审结", "concluding"),
}
TASK_STATUSES = ("requested", "accepted", "done", "declined")
# status -> the statuses it may move to
TASK_MOVES: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "declined", "done"}),
    "accepted": frozenset({"done", "declined"}),
    "done": frozenset(),
    "declined": frozenset(),
}
LINK_KINDS = ("incident", "call", "order")
OPEN, CLOSED = "open", "closed"

# Handling deadlines in days per type and stage (执法办案时限); the case_deadlines table overrides them.
DEFAULT_DEADLINE_DAYS: dict[str, float] = {"registered": 3.0, "investigating": 30.0, "concluding": 10.0}
DEFAULT_DEADLINES: dict[tuple[str, str], float] = {
    ("missing_person", "registered"): 0.5,
    ("missing_person", "investigating"): 7.0,
    ("missing_person", "concluding"): 3.0,
    ("traffic", "investigating"): 10.0,
    ("public_order", "investigating"): 20.0,
    ("fraud", "investigating"): 60.0,
    ("robbery", "registered"): 1.0,
    ("review", "investigating"): 15.0,
}

OVERSIGHT_PURPOSES = frozenset({Purpose.audit_review})
REVIEW_TYPE = "review"
NEEDS_INCIDENT = frozenset({"incident_response", "callback"})
# roles that may open a review case, and the only case type an auditor may open
REVIEW_OPENERS = frozenset({Role.auditor, Role.supervisor})
# roles that see every case's summary and the supervision screen without being members
SUPERVISORS = frozenset({Role.supervisor, Role.auditor})


def deadline_days(case_type: str, stage: str, overrides: dict[tuple[str, str], float] | None = None) -> float:
    """Days a case of ``case_type`` may stay in ``stage`` (configured, else default)."""
    key = (case_type, stage)
    if overrides and key in overrides:
        return overrides[key]
    return DEFAULT_DEADLINES.get(key, DEFAULT_DEADLINE_DAYS.get(stage, 30.0))


def purpose_fits(purpose: str, case_type: str) -> bool:
    """Whether a read for ``purpose`` fits a case of ``case_type`` (rule 3 above)."""
    if purpose == Purpose.audit_review:
        return True
    if case_type == REVIEW_TYPE:
        return False
    if purpose == Purpose.missing_person:
        return case_type == "missing_person"
    return True


@dataclass(frozen=True)
class CaseFacts:
    """What the access decision needs to know about one case."""

    id: str
    status: str
    type: str
    lead: str
    members: frozenset[str]
    incidents: int = 0


def decide(facts: CaseFacts | None, *, case_id: str, username: str, role: Role, purpose: str) -> str | None:
    """None when the read is allowed, else the reason it is refused (rules 1-5 of the module)."""
    if facts is None:
        return (f"no case {case_id!r} in the case registry: personal data needs an open case you work on "
                f"(open one with POST /api/v1/cases or precinct cases open)")
    if facts.status != OPEN:
        return f"case {case_id} is closed: access to personal data under it ended when it closed"
    if not purpose_fits(purpose, facts.type):
        return f"purpose {purpose} does not fit a {facts.type} case"
    if purpose in NEEDS_INCIDENT and facts.incidents == 0:
        return f"purpose {purpose} needs an incident linked to case {case_id}"
    if username == facts.lead or username in facts.members:
        return None
    if purpose in OVERSIGHT_PURPOSES and role in PURPOSE_ROLES[Purpose(purpose)]:
        return None
    return f"{username} is neither the lead nor a member of case {case_id}"


def resolve_code(value: str, table: dict[str, tuple[str, str]], field: str) -> str:
    """The code for ``value`` (a code, or its Chinese name); raises BadInput naming ``field``."""
    v = value.strip()
    if v in table:
        return v
    for code, (zh, en) in table.items():
        if v in (zh, en):
            return code
    raise BadInput(f"{field}: unknown code {value!r}; one of {', '.join(table)}",
                   detail={"field": field, "value": value, "allowed": list(table)})


def code_tables() -> dict[str, list[dict[str, str]]]:
    """The code tables for the UI and ``precinct cases codes`` (code, zh, en)."""
    def rows(table: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
        return [{"code": c, "zh": zh, "en": en} for c, (zh, en) in table.items()]

    return {"types": rows(CASE_TYPES), "teams": rows(TEAMS), "dispositions": rows(DISPOSITIONS),
            "stages": rows(STAGES), "task_statuses": [{"code": s, "zh": z, "en": s} for s, z in
                                                      zip(TASK_STATUSES, ("已请求", "已接受", "已完成", "已拒绝"),
                                                          strict=True)]}
