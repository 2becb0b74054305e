"""Code tables and request bodies of the anti-fraud centre (反诈中心)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel, Field

# code -> (Chinese, English). The code is what is stored and what CSV files may carry (the Chinese
# label is accepted on import too).
FRAUD_TYPES: Final[dict[str, tuple[str, str]]] = {
    "task_rebate": ("刷单返利", "task / rebate scam (fake order brushing)"),
    "fake_investment": ("虚假投资理财", "fake investment or wealth management"),
    "impersonating_authorities": ("冒充公检法", "impersonating police, procuratorate or court"),
    "fake_customer_service": ("冒充客服", "fake e-commerce or courier customer service"),
    "fake_loan": ("网络贷款", "fake online loan"),
    "romance_investment": ("杀猪盘", "romance-investment scam (pig butchering)"),
    "fake_shopping": ("虚假购物", "fake shopping or services"),
    "fake_credit": ("虚假征信", "fake credit-record repair"),
    "game_trading": ("网络游戏产品虚假交易", "fake game-item trading"),
    "impersonating_acquaintance": ("冒充领导熟人", "impersonating a boss or acquaintance"),
    "other": ("其他", "other"),
}
# other names victims and officers write for the same types
TYPE_ALIASES: Final[dict[str, str]] = {
    "冒充电商物流客服": "fake_customer_service", "虚假网络贷款": "fake_loan", "虚假购物服务": "fake_shopping",
    "刷单": "task_rebate", "投资理财": "fake_investment", "冒充领导": "impersonating_acquaintance",
}
CHANNELS: Final[dict[str, tuple[str, str]]] = {
    "call": ("电话", "phone call"),
    "sms": ("短信", "text message"),
    "app": ("应用程序", "app"),
    "website": ("网站", "website"),
    "social": ("社交媒体", "social media"),
    "other": ("其他", "other"),
}
CURRENCIES: Final = frozenset({"CNY", "HKD", "MOP", "TWD", "USD", "EUR", "USDT"})

IdentifierKind = Literal["account", "phone", "url", "app", "payment", "social"]


def fraud_type_code(text: str) -> str | None:
    """The code of a fraud type written as its code, its Chinese name or a known alias (else None)."""
    t = text.strip()
    if t.casefold() in FRAUD_TYPES:
        return t.casefold()
    for code, (zh, _) in FRAUD_TYPES.items():
        if t == zh:
            return code
    return TYPE_ALIASES.get(t)


def type_table() -> list[dict[str, str]]:
    """The fraud-type code table as rows of code, zh, en."""
    return [{"code": c, "zh": zh, "en": en} for c, (zh, en) in FRAUD_TYPES.items()]


class IdentifierIn(BaseModel):
    kind: IdentifierKind
    value: str = Field(min_length=1, max_length=256)
    bank: str | None = Field(default=None, max_length=64, description="the bank, for an account")


class ReportIn(BaseModel):
    """One fraud report as taken from the victim."""

    report_id: str | None = Field(default=None, min_length=1, max_length=64,
                                  description="the report's own id; generated when absent")
    ts: dt.datetime = Field(description="when the fraud happened (ISO 8601 with an offset)")
    type: str = Field(description="fraud-type code (GET /fraud/types) or its Chinese name")
    channel: str | None = Field(default=None, description="call, sms, app, website, social or other")
    loss: Decimal = Field(default=Decimal(0), ge=0, le=Decimal("1e12"), description="amount lost")
    currency: str = Field(default="CNY", min_length=3, max_length=4)
    victim_name: str | None = Field(default=None, max_length=128)
    victim_phone: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=4000)
    identifiers: list[IdentifierIn] = Field(default_factory=list, max_length=100)
    case_id: str | None = Field(default=None, max_length=64,
                                description="put the report in this case (default: the cluster's case, "
                                            "or a new fraud case)")


RequestKind = Literal["stop_payment", "freeze"]


class RequestIn(BaseModel):
    """A stop-payment or freeze request for one account."""

    kind: RequestKind
    account: str = Field(min_length=1, max_length=64)
    bank: str = Field(min_length=1, max_length=64)
    case_id: str = Field(min_length=2, max_length=64)
    amount: Decimal = Field(default=Decimal(0), ge=0, le=Decimal("1e12"))
    currency: str = Field(default="CNY", min_length=3, max_length=4)
    reason: str | None = Field(default=None, max_length=2000)


class RequestTransition(BaseModel):
    """Move a request to a new state; amounts as the bank reports them."""

    state: Literal["sent", "confirmed", "rejected", "renewed", "released", "expired"]
    amount_held: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"),
                                        description="amount stopped or frozen (on confirmed)")
    amount_returned: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"),
                                            description="amount returned to victims (on released)")
    note: str | None = Field(default=None, max_length=2000)


class ContactIn(BaseModel):
    """A recorded link between a person and a fraud identifier (e.g. a call received from it)."""

    person_phone: str = Field(min_length=3, max_length=64)
    person_name: str | None = Field(default=None, max_length=128)
    link: Literal["call_from", "sms_from", "paid_to", "visited"]
    kind: IdentifierKind
    value: str = Field(min_length=1, max_length=256)
    at: dt.datetime
    source: str = Field(min_length=1, max_length=64, description="where the record comes from "
                                                                 "(carrier referral, bank referral, report)")


class WarningIn(BaseModel):
    contact_id: int = Field(ge=1, le=2**63 - 1, description="the recorded contact (row id)")
    method: Literal["call", "sms", "visit"]
    template: str | None = Field(default=None, max_length=64)


class WarningOutcome(BaseModel):
    outcome: Literal["reached", "not_reached", "confirmed_safe", "transfer_stopped"]
    note: str | None = Field(default=None, max_length=2000)
