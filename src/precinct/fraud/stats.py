"""Anti-fraud statistics like the source's, by month and fraud type (aggregates: no personal data).

Months are calendar months in China Standard Time (UTC+8, no daylight saving), as the centre counts
them. Figures: reports and losses by type; warnings issued, reached and transfers stopped (劝阻成功);
accounts stopped and frozen; amounts held and returned to victims.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.errors import BadInput
from precinct.fraud.models import FraudReport, FraudRequest, FraudWarning
from precinct.fraud.schemas import FRAUD_TYPES

_MONTH: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CST: Final = dt.timezone(dt.timedelta(hours=8), "CST")
REACHED: Final = frozenset({"reached", "confirmed_safe", "transfer_stopped"})
HELD_STATES: Final = frozenset({"confirmed", "renewed", "released", "expired"})


def check_month(value: str | None, field: str) -> str | None:
    """``value`` if it is a ``YYYY-MM`` month (or None); else BadInput naming ``field``."""
    if value is None:
        return None
    if not _MONTH.match(value):
        raise BadInput(f"{field} must be a month YYYY-MM, not {value[:20]!r}", detail={"field": field})
    return value


def month_of(ts: dt.datetime) -> str:
    """``YYYY-MM`` of an instant in China Standard Time."""
    return ts.astimezone(CST).strftime("%Y-%m")


def _month_bounds(since: str | None, until: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    def start(m: str) -> dt.datetime:
        y, mo = (int(x) for x in m.split("-"))
        return dt.datetime(y, mo, 1, tzinfo=CST)

    lo = start(since) if since else None
    hi = None
    if until:
        y, mo = (int(x) for x in until.split("-"))
        hi = start(f"{y + mo // 12}-{mo % 12 + 1}")
    return lo, hi


def monthly_stats(session: Session, *, since: str | None = None, until: str | None = None) -> dict[str, Any]:
    """Figures by month (``YYYY-MM``, CST) and, for reports, by fraud type.

    Parameters
    ----------
    since, until : str, optional
        First and last month to include (``YYYY-MM``), inclusive.

    Returns
    -------
    dict
        ``{"months": [{"month", "reports", "loss", "by_type": [{"type", "zh", "reports", "loss"}],
        "warnings_issued", "warnings_reached", "transfers_stopped", "accounts_stopped",
        "accounts_frozen", "amount_held", "amount_returned"}], "totals": {...}}``; amounts in CNY.
    """
    lo, hi = _month_bounds(since, until)

    def within(col: Any) -> list[Any]:
        conds = []
        if lo is not None:
            conds.append(col >= lo)
        if hi is not None:
            conds.append(col < hi)
        return conds

    months: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "reports": 0, "loss_cents": 0, "by_type": defaultdict(lambda: [0, 0]), "warnings_issued": 0,
        "warnings_reached": 0, "transfers_stopped": 0, "accounts_stopped": 0, "accounts_frozen": 0,
        "held_cents": 0, "returned_cents": 0})
    q = select(FraudReport.ts, FraudReport.fraud_type, FraudReport.loss_cents, FraudReport.currency)
    for ts, ftype, cents, currency in session.execute(q.where(*within(FraudReport.ts))):
        m = months[month_of(ts)]
        m["reports"] += 1
        m["by_type"][ftype][0] += 1
        if currency == "CNY":
            m["loss_cents"] += cents
            m["by_type"][ftype][1] += cents
    for created, outcome in session.execute(select(FraudWarning.created_at, FraudWarning.outcome)
                                            .where(*within(FraudWarning.created_at))):
        m = months[month_of(created)]
        m["warnings_issued"] += 1
        m["warnings_reached"] += outcome in REACHED
        m["transfers_stopped"] += outcome == "transfer_stopped"
    for r in session.scalars(select(FraudRequest).where(FraudRequest.confirmed_at.is_not(None),
                                                        *within(FraudRequest.confirmed_at))):
        assert r.confirmed_at is not None
        m = months[month_of(r.confirmed_at)]
        m["accounts_stopped" if r.kind == "stop_payment" else "accounts_frozen"] += 1
        if r.currency == "CNY":
            m["held_cents"] += r.amount_held_cents
    for r in session.scalars(select(FraudRequest).where(FraudRequest.amount_returned_cents > 0,
                                                        FraudRequest.closed_at.is_not(None),
                                                        *within(FraudRequest.closed_at))):
        assert r.closed_at is not None
        if r.currency == "CNY":
            months[month_of(r.closed_at)]["returned_cents"] += r.amount_returned_cents
    rows = []
    for month in sorted(months):
        m = months[month]
        rows.append({
            "month": month, "reports": m["reports"], "loss": m["loss_cents"] / 100,
            "by_type": [{"type": t, "zh": FRAUD_TYPES.get(t, (t, t))[0], "en": FRAUD_TYPES.get(t, (t, t))[1],
                         "reports": n, "loss": c / 100} for t, (n, c) in sorted(m["by_type"].items())],
            "warnings_issued": m["warnings_issued"], "warnings_reached": m["warnings_reached"],
            "transfers_stopped": m["transfers_stopped"], "accounts_stopped": m["accounts_stopped"],
            "accounts_frozen": m["accounts_frozen"], "amount_held": m["held_cents"] / 100,
            "amount_returned": m["returned_cents"] / 100})
    keys = ("reports", "loss", "warnings_issued", "warnings_reached", "transfers_stopped", "accounts_stopped",
            "accounts_frozen", "amount_held", "amount_returned")
    totals = {k: round(sum(r[k] for r in rows), 2) for k in keys}
    return {"timezone": "UTC+08:00", "months": rows, "totals": totals}
