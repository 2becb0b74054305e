"""Fraud waves (诈骗高发): when one fraud type, or one linked cluster, grows past a threshold of
reports within a window, the public should be warned.

A wave is described without personal data: the fraud type, the channels used, how the fraud works
(modus operandi) and advice, the number of reports and the window — never a victim, an amount of
one report, an identifier (account, phone, URL) or a report id. The description is published on
the event bus as ``fraud.wave``; the public-communication domain turns it into a draft alert or
bulletin for a supervisor to approve (the two domains are independent layers: neither imports the
other, the bus joins them).

A cluster's wave is left out when the cluster's fraud type is itself a wave in the same answer (the
type's warning covers it).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from precinct.core.timeutil import to_iso
from precinct.fraud.models import FraudReport
from precinct.fraud.schemas import CHANNELS, FRAUD_TYPES

SUBJECT: Final = "fraud.wave"

# How each type works and what to do (zh, en): public advice, as on the 国家反诈中心 materials.
MODUS: Final[dict[str, tuple[str, str]]] = {
    "task_rebate": ("以刷单、点赞、做任务返利为名，先小额返利取得信任，再诱导大额垫资后拒不返还。",
                    "Offers of paid tasks (fake orders, likes) pay small rebates first, then ask for larger "
                    "advances that are never returned."),
    "fake_investment": ("通过虚假投资理财平台或“导师”荐股，诱导受害人充值投资，随后无法提现。",
                        "Fake investment platforms or 'mentors' persuade victims to deposit money that can then "
                        "never be withdrawn."),
    "impersonating_authorities": ("冒充公安、检察院、法院工作人员，称受害人涉案，要求将资金转入“安全账户”。",
                                  "Callers pose as police, prosecutors or judges, claim the victim is involved in a "
                                  "crime and demand transfers to a 'safe account'."),
    "fake_customer_service": ("冒充电商、物流客服，以退款、理赔、关闭服务为由，诱导受害人转账或共享屏幕。",
                              "Fake e-commerce or courier customer service offers refunds or compensation and "
                              "leads victims to transfer money or share their screen."),
    "fake_loan": ("以无抵押、低利息贷款为诱饵，收取手续费、保证金、解冻费后失联。",
                  "Offers of easy low-interest loans collect fees, deposits or 'unfreezing' charges, then vanish."),
    "romance_investment": ("通过网络交友建立恋爱关系，再诱导受害人在虚假平台投资或博彩。",
                           "An online romance is built up, then the victim is led to invest or gamble on a fake "
                           "platform."),
    "fake_shopping": ("以低价商品、代购、票务为诱饵，收款后不发货。",
                      "Cheap goods, proxy purchases or tickets are offered; the money is taken and nothing sent."),
    "fake_credit": ("冒充金融机构，称可修复征信或注销校园贷，诱导转账。",
                    "Callers pose as financial institutions offering to repair a credit record and ask for "
                    "transfers."),
    "game_trading": ("以低价出售或高价收购游戏账号、装备为名，诱导在虚假平台交易。",
                     "Game accounts or items are traded through fake platforms that take the money."),
    "impersonating_acquaintance": ("冒充领导、熟人添加好友，以急需用钱为由要求转账。",
                                   "Someone posing as a boss or an acquaintance asks for an urgent transfer."),
}
ADVICE: Final = ("不轻信、不透露、不转账。任何要求向陌生账户转账、共享屏幕或下载陌生应用的，都是诈骗。"
                 "如有疑问，请拨打96110或110。",
                 "Do not believe it, do not share your details, do not transfer money. Anyone asking you to pay "
                 "an unknown account, share your screen or install an unknown app is a fraudster. If in doubt, "
                 "call 96110 or 110.")


def _wave(kind: str, ref: str, fraud_type: str, channels: Counter[str], reports: int, *,
          since: dt.datetime, until: dt.datetime, days: float) -> dict[str, Any]:
    zh, en = FRAUD_TYPES.get(fraud_type, FRAUD_TYPES["other"])
    modus = MODUS.get(fraud_type, ("", ""))
    return {
        "key": f"{kind}:{ref}", "kind": kind, "fraud_type": fraud_type, "type_zh": zh, "type_en": en,
        "channels": [{"code": c, "zh": CHANNELS[c][0], "en": CHANNELS[c][1]}
                     for c, _ in sorted(channels.items(), key=lambda x: (-x[1], x[0])) if c in CHANNELS],
        "reports": reports, "days": days, "since": to_iso(since), "until": to_iso(until),
        "modus_zh": modus[0], "modus_en": modus[1], "advice_zh": ADVICE[0], "advice_en": ADVICE[1],
    }


def detect_waves(session: Session, *, threshold: int, days: float, now: dt.datetime,
                 types: set[str] | None = None, clusters: set[int] | None = None) -> list[dict[str, Any]]:
    """Fraud types and clusters with at least ``threshold`` reports in the ``days`` before ``now``.

    Parameters
    ----------
    threshold : int
        Reports (by report time) within the window that make a wave.
    days : float
        The window's length.
    now : datetime
        The window's end (timezone-aware).
    types, clusters : set, optional
        Only waves of these fraud types / clusters (those a batch of reports touched).

    Returns
    -------
    list of dict
        One per wave, types first (most reports first): ``key``, ``kind`` (type or cluster),
        ``fraud_type`` with its names, ``channels``, ``reports``, the window, ``modus_*`` and
        ``advice_*`` (zh, en). No personal data.
    """
    since = now - dt.timedelta(days=days)
    window = (FraudReport.ts >= since, FraudReport.ts <= now)
    r = FraudReport
    # counts are grouped in the database (the window is indexed on ts): one row per type, per
    # (cluster, type) and per channel, never one per report
    cluster_types: dict[int, Counter[str]] = defaultdict(Counter)
    q = select(r.cluster_id, r.fraud_type, func.count()).where(*window)
    if clusters is not None:
        q = q.where(r.cluster_id.in_(sorted(clusters)))
    for cluster_id, fraud_type, n in session.execute(q.group_by(r.cluster_id, r.fraud_type)):
        cluster_types[cluster_id][fraud_type] += n
    tq = select(r.fraud_type, func.count()).where(*window)
    if types is not None:  # only the types asked for and the main types of large clusters (index type, ts)
        needed = set(types) | {min(c.items(), key=lambda x: (-x[1], x[0]))[0]
                               for c in cluster_types.values() if sum(c.values()) >= threshold}
        tq = tq.where(r.fraud_type.in_(sorted(needed)))
    type_n: Counter[str] = Counter({t: n for t, n in session.execute(tq.group_by(r.fraud_type))})
    wave_types = {t for t, n in type_n.items() if n >= threshold}
    wanted_types = sorted(t for t in wave_types if types is None or t in types)
    wanted_clusters: list[tuple[int, str, int]] = []
    for c, counts in cluster_types.items():
        n = sum(counts.values())
        main = min(counts.items(), key=lambda x: (-x[1], x[0]))[0]
        if n >= threshold and main not in wave_types:
            wanted_clusters.append((c, main, n))
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    if wanted_types:
        for fraud_type, channel, n in session.execute(
                select(r.fraud_type, r.channel, func.count()).where(*window, r.fraud_type.in_(wanted_types),
                                                                    r.channel.is_not(None))
                .group_by(r.fraud_type, r.channel)):
            by_type[fraud_type][str(channel)] += n
    by_cluster: dict[int, Counter[str]] = defaultdict(Counter)
    if wanted_clusters:
        ids = [c for c, _, _ in wanted_clusters]
        for cluster_id, channel, n in session.execute(
                select(r.cluster_id, r.channel, func.count()).where(*window, r.cluster_id.in_(ids),
                                                                    r.channel.is_not(None))
                .group_by(r.cluster_id, r.channel)):
            by_cluster[cluster_id][str(channel)] += n
    out = [_wave("type", t, t, by_type[t], type_n[t], since=since, until=now, days=days)
           for t in sorted(wanted_types, key=lambda t: (-type_n[t], t))]
    out += [_wave("cluster", str(c), main, by_cluster[c], n, since=since, until=now, days=days)
            for c, main, n in sorted(wanted_clusters, key=lambda x: (-x[2], x[0]))]
    return out


def waves_of_reports(session: Session, *, report_ids: list[str], threshold: int, days: float,
                     now: dt.datetime) -> list[dict[str, Any]]:
    """The waves that the reports ``report_ids`` (just stored) are part of: their types' and clusters'."""
    types: set[str] = set()
    clusters: set[int] = set()
    for start in range(0, len(report_ids), 500):
        chunk = report_ids[start:start + 500]
        for fraud_type, cluster_id in session.execute(select(FraudReport.fraud_type, FraudReport.cluster_id)
                                                      .where(FraudReport.id.in_(chunk))):
            types.add(fraud_type)
            clusters.add(cluster_id)
    if not types:
        return []
    return detect_waves(session, threshold=threshold, days=days, now=now, types=types, clusters=clusters)
