"""The simulator's call mix, keyed by the incident-type codes of :mod:`precinct.command.service`.

Names and default five-colour priorities come from that table (one source of truth); the shares,
rhythms, hotspot affinities, duplicate-call rates and call-taker descriptions are the simulator's
own and live here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from precinct.command.service import INCIDENT_TYPES as CODE_TABLE

PRIORITIES = ("red", "orange", "yellow", "blue", "green")


@dataclass(frozen=True)
class SimIncidentType:
    """One incident type with the simulator's parameters.

    ``share`` is the fraction of all (non near-repeat) calls; ``rhythm`` names an hourly profile in
    :mod:`precinct.sim.rhythm`; ``hotspot`` is the probability a call lies in a hotspot rather than
    spread with population; ``duplicate`` is the chance one event draws more than one 110 call.
    """

    code: str
    share: float
    rhythm: str
    hotspot: float
    duplicate: float
    descriptions: tuple[str, ...]

    @property
    def name_zh(self) -> str:
        return CODE_TABLE[self.code].name_zh

    @property
    def name_en(self) -> str:
        return CODE_TABLE[self.code].name_en

    @property
    def priority(self) -> str:
        return str(CODE_TABLE[self.code].priority.value)


_T = SimIncidentType
# Shares loosely follow published county 110 breakdowns: traffic, disputes and help requests make
# up most calls; crimes against property a fifth; violent crime a few per cent.
INCIDENT_TYPES: tuple[SimIncidentType, ...] = (
    _T(
        "traffic_accident",
        0.13,
        "traffic",
        0.35,
        0.30,
        ("电动车与轿车刮擦，双方争执", "路口发生追尾事故", "两车剐蹭，需要民警处理"),
    ),
    _T(
        "traffic_injury",
        0.03,
        "traffic",
        0.35,
        0.40,
        ("两车相撞，有人受伤", "行人被车撞倒，头部流血"),
    ),
    _T("dispute", 0.08, "evening", 0.45, 0.05, ("顾客与店主发生争执", "双方因琐事发生口角")),
    _T(
        "neighbour_dispute",
        0.05,
        "evening",
        0.30,
        0.05,
        ("邻里因停车发生纠纷", "楼上漏水引发邻里纠纷"),
    ),
    _T("consumer_dispute", 0.02, "day", 0.60, 0.0, ("饭店结账发生纠纷", "购物退货发生争执")),
    _T("theft", 0.09, "day", 0.50, 0.02, ("手机在商场被盗", "店内财物被盗", "车内物品被盗")),
    _T("theft_ebike", 0.07, "day", 0.45, 0.01, ("停在小区楼下的电动车被盗", "电动车在超市门口被盗")),
    _T("vehicle_theft", 0.01, "night", 0.20, 0.0, ("停在路边的轿车被盗",)),
    _T(
        "burglary",
        0.05,
        "night",
        0.30,
        0.03,
        ("家中被撬，财物丢失", "回家发现门锁被撬", "店铺夜间被盗"),
    ),
    _T("snatching", 0.01, "evening", 0.60, 0.10, ("路边被抢夺手机，嫌疑人骑电动车逃跑",)),
    _T(
        "fight",
        0.05,
        "night",
        0.70,
        0.35,
        ("烧烤店门口多人打架", "酒后斗殴，有人受伤", "KTV内发生打斗"),
    ),
    _T("assault", 0.02, "night", 0.50, 0.15, ("被人殴打受伤", "被他人持棍打伤")),
    _T("drunk", 0.02, "night", 0.70, 0.10, ("醉酒男子在饭店闹事", "醉汉躺在路中间")),
    _T("fraud", 0.02, "day", 0.10, 0.0, ("购买二手物品被骗", "被人以介绍工作为名骗钱")),
    _T(
        "telecom_fraud",
        0.04,
        "day",
        0.05,
        0.0,
        ("接到冒充客服电话被骗", "网络刷单被骗", "冒充公检法诈骗"),
    ),
    _T(
        "noise",
        0.07,
        "evening",
        0.55,
        0.15,
        ("楼上装修噪音扰民", "广场舞音响声音过大", "深夜酒吧噪音"),
    ),
    _T(
        "assistance",
        0.09,
        "day",
        0.20,
        0.0,
        ("老人被锁门外求助", "钥匙丢失求助", "车辆被堵求助挪车"),
    ),
    _T("lost_property", 0.03, "day", 0.40, 0.0, ("钱包丢失", "手机遗落在出租车上")),
    _T("medical", 0.02, "flat", 0.20, 0.10, ("路边有人晕倒", "老人在家摔倒无法起身")),
    _T("domestic", 0.03, "evening", 0.20, 0.10, ("丈夫酒后殴打妻子", "家中发生暴力冲突")),
    _T("robbery", 0.005, "night", 0.50, 0.20, ("路边被抢包，嫌疑人骑车逃跑", "持刀抢劫便利店")),
    _T("fire", 0.015, "flat", 0.20, 0.60, ("居民楼冒出浓烟", "路边车辆起火")),
    _T("missing_child", 0.003, "day", 0.50, 0.10, ("孩子在商场走失", "孩子放学未回家")),
    _T(
        "missing_person",
        0.007,
        "day",
        0.20,
        0.05,
        ("老人外出未归，患有阿尔茨海默症", "家人联系不上"),
    ),
    _T(
        "suspicious",
        0.04,
        "night",
        0.40,
        0.05,
        ("有人在小区里挨家挨户看门锁", "可疑车辆在附近徘徊"),
    ),
    _T("enquiry", 0.03, "day", 0.10, 0.0, ("咨询办理身份证事宜", "咨询交通违章处理")),
)

TYPE_BY_CODE: dict[str, SimIncidentType] = {t.code: t for t in INCIDENT_TYPES}


def type_shares() -> np.ndarray:
    """Shares of the incident types, in table order, normalised to sum to one."""
    shares = np.array([t.share for t in INCIDENT_TYPES], dtype=np.float64)
    return shares / shares.sum()
