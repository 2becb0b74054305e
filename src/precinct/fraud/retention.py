"""Retention of anti-fraud contact records (run by ``precinct retention run``).

A recorded contact (a citizen who received a call from, or paid, a fraud identifier) is personal
data about a possible victim, kept only to warn them. Contacts recorded more than
``PRECINCT_FRAUD_CONTACT_RETENTION_DAYS`` days ago (default 365) are erased with their finished
warning tasks; a contact with a warning still open is kept. Reports, identifiers and requests stay
with their cases (evidence; they follow the case's life). Each erasure is audited in the erasing
transaction: if the audit record cannot be written, nothing is erased.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import delete, select

from precinct.config import Settings
from precinct.core import audit
from precinct.core.db import Database
from precinct.core.roles import AuditAction
from precinct.fraud.models import FraudContact, FraudWarning


class FraudRetention(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRECINCT_FRAUD_", extra="ignore")

    contact_retention_days: int = 365


def run(*, db: Database, settings: Settings, now: dt.datetime, actor: str) -> list[dict[str, Any]]:
    days = FraudRetention().contact_retention_days
    cutoff = now - dt.timedelta(days=days)
    with db.session() as s:
        old = set(s.scalars(select(FraudContact.id).where(FraudContact.recorded_at < cutoff)))
        open_ = set(s.scalars(select(FraudWarning.contact_id).where(FraudWarning.state != "done")))
        erase = sorted(old - open_)
        warnings = 0
        for lo in range(0, len(erase), 500):
            chunk = erase[lo:lo + 500]
            warnings += len(s.scalars(select(FraudWarning.id).where(FraudWarning.contact_id.in_(chunk))).all())
            s.execute(delete(FraudWarning).where(FraudWarning.contact_id.in_(chunk)))
            s.execute(delete(FraudContact).where(FraudContact.id.in_(chunk)))
        audit.append(s, actor=actor, role="system", action=AuditAction.erasure, resource="fraud.contacts",
                     params={"cutoff": cutoff.isoformat(), "retention_days": days, "kept_open": len(old & open_),
                             "warnings_erased": warnings}, result_count=len(erase))
    return [{"resource": "fraud.contacts", "erased": len(erase), "kept": len(old & open_),
             "cutoff": cutoff.isoformat()}]
