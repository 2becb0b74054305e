"""The incident-type code table, five-colour priority (五色警情) and response plans.

This module is pure data and small pure functions, importable by any domain (the simulator keys its
call mix on :data:`INCIDENT_TYPES`' codes).

Five-colour priority
--------------------
Chinese command centres grade every 110 call by colour (五色警情分级). The scheme below follows the
common practice of grading by *danger to life* and *whether the offence is still in progress*, and
binds each colour to a dispatch target, an arrival target and a graded response level (分级响应):

======  ======  ==============================================  ==========  =========  =====
colour  中文     meaning                                          dispatch    arrive     level
======  ======  ==============================================  ==========  =========  =====
red     红色     life in danger now; serious violence in progress  60 s       5 min      I
orange  橙色     offence in progress, or someone injured           120 s      10 min     II
yellow  黄色     offence just happened, suspect gone; needs police  300 s      20 min     III
blue    蓝色     disputes, help requests, no pressing danger        600 s      30 min     IV
green   绿色     enquiries, non-police matters, may be deferred     1800 s     60 min     IV
======  ======  ==============================================  ==========  =========  =====

The 5-minute red arrival target is the urban "5分钟到达" standard that nine-grid deployment
(九宫格布警) is built to meet. A call-taker may raise or lower a call's colour; the response plan
follows the colour actually set (see :func:`response_plan`).

Response plans
--------------
Each type names the unit types it needs at its default colour (e.g. an armed robbery: two patrol
cars and a special-police unit). Raising the colour above the default adds one patrol unit per
step and, at red, at least one special unit; lowering it never drops below one unit of the first
listed type. Linked agencies (119 fire, 120 ambulance, 122 traffic) are named for notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Priority(StrEnum):
    """Five-colour priority, most urgent first."""

    red = "red"
    orange = "orange"
    yellow = "yellow"
    blue = "blue"
    green = "green"

    @property
    def rank(self) -> int:
        """0 for red (most urgent) to 4 for green."""
        return _RANK[self.value]


_RANK = {p: i for i, p in enumerate(("red", "orange", "yellow", "blue", "green"))}


class UnitType(StrEnum):
    """Kinds of police unit a response plan can ask for."""

    patrol = "patrol"  # 巡逻警车 / patrol car
    special = "special"  # 巡特警 / special police (armed response)
    traffic = "traffic"  # 交警 / traffic police
    community = "community"  # 社区民警 / community officer of the station
    detective = "detective"  # 刑侦 / criminal investigation


@dataclass(frozen=True)
class PriorityInfo:
    """Targets and response level for one colour."""

    priority: Priority
    name_zh: str
    name_en: str
    dispatch_target_s: int
    arrival_target_s: int
    response_level: int
    eido_priority_number: int  # 1..10 for EIDO incidentCommonPriorityNumber (10 = highest)


PRIORITIES: dict[Priority, PriorityInfo] = {
    p.priority: p
    for p in (
        PriorityInfo(Priority.red, "红色", "red: life in danger", 60, 300, 1, 10),
        PriorityInfo(Priority.orange, "橙色", "orange: in progress or injured", 120, 600, 2, 8),
        PriorityInfo(Priority.yellow, "黄色", "yellow: just happened", 300, 1200, 3, 6),
        PriorityInfo(Priority.blue, "蓝色", "blue: no pressing danger", 600, 1800, 4, 4),
        PriorityInfo(Priority.green, "绿色", "green: may be deferred", 1800, 3600, 4, 2),
    )
}

RESPONSE_LEVELS = {1: "I 一级响应", 2: "II 二级响应", 3: "III 三级响应", 4: "IV 四级响应"}


@dataclass(frozen=True)
class IncidentType:
    """One row of the code table."""

    code: str
    category: str
    name_zh: str
    name_en: str
    priority: Priority
    units: tuple[tuple[UnitType, int], ...]
    notify: tuple[str, ...] = field(default=())

    @property
    def default_priority(self) -> Priority:
        return self.priority


CATEGORIES = {
    "criminal": ("刑事", "Criminal"),
    "public_order": ("治安", "Public order"),
    "traffic": ("交通", "Traffic"),
    "disaster": ("灾害事故", "Fire and disaster"),
    "assistance": ("群众求助", "Assistance"),
    "dispute": ("纠纷", "Dispute"),
    "other": ("其他", "Other"),
}

# code, category, name_zh, name_en, default colour, "unit_type:count ...", linked agencies
_ROWS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    # criminal
    ("homicide", "criminal", "命案", "Homicide", "red", "patrol:2 special:1 detective:1", "120"),
    ("shooting", "criminal", "涉枪案件", "Shooting / firearm", "red", "patrol:2 special:2", "120"),
    (
        "hostage",
        "criminal",
        "劫持人质",
        "Hostage taking",
        "red",
        "special:2 patrol:2 detective:1",
        "",
    ),
    ("explosion", "criminal", "爆炸", "Explosion", "red", "patrol:2 special:1", "119 120"),
    ("armed_robbery", "criminal", "持械抢劫", "Armed robbery", "red", "patrol:2 special:1", ""),
    ("robbery", "criminal", "抢劫", "Robbery", "red", "patrol:2", ""),
    ("kidnapping", "criminal", "绑架", "Kidnapping", "red", "patrol:2 special:1 detective:1", ""),
    (
        "sexual_assault",
        "criminal",
        "性侵害",
        "Sexual assault",
        "orange",
        "patrol:1 detective:1",
        "120",
    ),
    ("assault", "criminal", "故意伤害", "Assault", "orange", "patrol:1", "120"),
    ("snatching", "criminal", "抢夺", "Snatch theft", "orange", "patrol:1", ""),
    ("burglary", "criminal", "入室盗窃", "Burglary", "orange", "patrol:1", ""),
    ("theft", "criminal", "盗窃", "Theft", "yellow", "patrol:1", ""),
    ("theft_ebike", "criminal", "电动车被盗", "E-bike theft", "yellow", "patrol:1", ""),
    ("vehicle_theft", "criminal", "机动车被盗", "Vehicle theft", "yellow", "patrol:1", ""),
    ("fraud", "criminal", "诈骗", "Fraud", "yellow", "community:1", ""),
    (
        "telecom_fraud",
        "criminal",
        "电信网络诈骗",
        "Telecom / online fraud",
        "yellow",
        "community:1",
        "",
    ),
    ("arson", "criminal", "放火", "Arson", "red", "patrol:2", "119 120"),
    # public_order
    ("fight", "public_order", "打架斗殴", "Fight", "orange", "patrol:2", "120"),
    ("brawl", "public_order", "聚众斗殴", "Group brawl", "red", "patrol:3 special:1", "120"),
    ("domestic", "public_order", "家庭暴力", "Domestic violence", "orange", "patrol:1", ""),
    ("disturbance", "public_order", "扰乱秩序", "Public disturbance", "yellow", "patrol:1", ""),
    ("drunk", "public_order", "醉酒滋事", "Drunk and disorderly", "yellow", "patrol:1", ""),
    ("gambling", "public_order", "赌博", "Gambling", "blue", "community:1", ""),
    ("drugs", "public_order", "涉毒", "Drugs", "yellow", "patrol:1", ""),
    ("noise", "public_order", "噪音扰民", "Noise complaint", "green", "community:1", ""),
    ("suspicious", "public_order", "可疑情况", "Suspicious activity", "blue", "patrol:1", ""),
    # traffic
    (
        "traffic_injury",
        "traffic",
        "交通事故（有人伤）",
        "Traffic accident with injuries",
        "orange",
        "traffic:1 patrol:1",
        "120 122",
    ),
    ("traffic_accident", "traffic", "交通事故", "Traffic accident", "blue", "traffic:1", "122"),
    (
        "hit_and_run",
        "traffic",
        "肇事逃逸",
        "Hit and run",
        "orange",
        "traffic:1 patrol:1",
        "120 122",
    ),
    ("drunk_driving", "traffic", "酒驾", "Drunk driving", "orange", "traffic:1", ""),
    ("congestion", "traffic", "交通堵塞", "Traffic congestion", "green", "traffic:1", ""),
    # disaster
    ("fire", "disaster", "火情", "Fire", "red", "patrol:1", "119 120"),
    ("gas_leak", "disaster", "燃气泄漏", "Gas leak", "orange", "patrol:1", "119"),
    (
        "natural_disaster",
        "disaster",
        "自然灾害",
        "Natural disaster",
        "orange",
        "patrol:2",
        "119 120",
    ),
    # assistance
    ("missing_child", "assistance", "儿童走失", "Missing child", "red", "patrol:2 community:1", ""),
    (
        "missing_person",
        "assistance",
        "人员走失",
        "Missing person",
        "orange",
        "patrol:1 community:1",
        "",
    ),
    ("suicide_threat", "assistance", "扬言轻生", "Suicide threat", "red", "patrol:2", "120"),
    ("medical", "assistance", "急病求助", "Medical emergency", "orange", "patrol:1", "120"),
    ("assistance", "assistance", "求助", "Request for assistance", "green", "patrol:1", ""),
    ("lost_property", "assistance", "物品遗失", "Lost property", "green", "community:1", ""),
    # dispute
    ("dispute", "dispute", "纠纷", "Dispute", "blue", "patrol:1", ""),
    ("neighbour_dispute", "dispute", "邻里纠纷", "Neighbour dispute", "blue", "community:1", ""),
    ("labour_dispute", "dispute", "劳资纠纷", "Labour / wage dispute", "blue", "community:1", ""),
    ("consumer_dispute", "dispute", "消费纠纷", "Consumer dispute", "green", "community:1", ""),
    # other
    ("tip_off", "other", "举报线索", "Tip-off", "blue", "detective:1", ""),
    ("enquiry", "other", "咨询", "Enquiry", "green", "community:1", ""),
    ("other_incident", "other", "其他警情", "Other incident", "yellow", "patrol:1", ""),
    ("nuisance_call", "other", "骚扰电话", "Nuisance / prank call", "green", "community:1", ""),
)


def _parse_units(spec: str) -> tuple[tuple[UnitType, int], ...]:
    return tuple((UnitType(u), int(n)) for u, n in (part.split(":") for part in spec.split()))


_TABLE: tuple[IncidentType, ...] = tuple(
    IncidentType(code, cat, zh, en, Priority(prio), _parse_units(units), tuple(notify.split()))
    for code, cat, zh, en, prio, units, notify in _ROWS
)

INCIDENT_TYPES: dict[str, IncidentType] = {t.code: t for t in _TABLE}
"""Every incident type by code, in table order."""


def get_type(code: str) -> IncidentType | None:
    """The type with ``code`` (case-insensitive; the English name also matches), or None."""
    key = code.strip().lower()
    found = INCIDENT_TYPES.get(key)
    if found is not None:
        return found
    for t in _TABLE:
        if key in (t.name_en.lower(), t.name_zh):
            return t
    return None


def related(a: str, b: str) -> bool:
    """Whether two type codes are the same or share a category (for duplicate detection)."""
    ta, tb = INCIDENT_TYPES.get(a), INCIDENT_TYPES.get(b)
    if ta is None or tb is None:
        return a == b
    return ta.code == tb.code or ta.category == tb.category


def response_plan(code: str, priority: Priority | str | None = None) -> dict[UnitType, int]:
    """Unit types and counts the incident needs at ``priority`` (default: the type's colour).

    Parameters
    ----------
    code
        An incident-type code from :data:`INCIDENT_TYPES`.
    priority
        The colour actually set on the incident.

    Returns
    -------
    dict
        ``{unit_type: count}`` in the plan's order.
    """
    itype = INCIDENT_TYPES[code]
    prio = Priority(priority) if priority is not None else itype.priority
    plan: dict[UnitType, int] = {}
    for utype, n in itype.units:
        plan[utype] = plan.get(utype, 0) + n
    steps_up = itype.priority.rank - prio.rank
    if steps_up > 0:
        plan[UnitType.patrol] = plan.get(UnitType.patrol, 0) + steps_up
        if prio is Priority.red:
            plan.setdefault(UnitType.special, 1)
    elif steps_up < 0:
        first = itype.units[0][0]
        plan = {first: 1}
    return plan


def response_level(priority: Priority | str) -> int:
    """Graded response level (1 = I, most serious, to 4 = IV) for a colour."""
    return PRIORITIES[Priority(priority)].response_level


def type_table() -> list[dict[str, object]]:
    """The code table as JSON-able rows (what ``GET /incident-types`` returns)."""
    rows: list[dict[str, object]] = []
    for t in _TABLE:
        info = PRIORITIES[t.priority]
        rows.append(
            {
                "code": t.code,
                "category": t.category,
                "category_zh": CATEGORIES[t.category][0],
                "category_en": CATEGORIES[t.category][1],
                "name_zh": t.name_zh,
                "name_en": t.name_en,
                "priority": t.priority.value,
                "default_priority": t.priority.value,
                "response_level": info.response_level,
                "response_plan": [{"unit_type": u.value, "count": n} for u, n in response_plan(t.code).items()],
                "notify": list(t.notify),
                "dispatch_target_s": info.dispatch_target_s,
                "arrival_target_s": info.arrival_target_s,
            }
        )
    return rows
