"""Retention: old contact records are erased (audited), unless a warning for them is still open."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.identity import Principal
from precinct.core.models import AuditRecord
from precinct.fraud import prevention, retention, service
from precinct.fraud.models import FraudContact, FraudWarning
from precinct.fraud.schemas import ContactIn, IdentifierIn, ReportIn, WarningIn, WarningOutcome


def test_old_contacts_erased_open_warnings_kept(db: Database, settings: Settings, principal: Principal,
                                                fraud_case: str) -> None:
    with db.session() as s:
        service.record_report(s, body=ReportIn(report_id="X1", ts=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                               type="fake_loan", case_id=fraud_case,
                                               identifiers=[IdentifierIn(kind="phone", value="13800138000")]),
                              principal=principal)
        ids = [prevention.record_contact(s, body=ContactIn(
            person_phone=f"1360013600{i}", link="call_from", kind="phone", value="13800138000",
            at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC), source="carrier"), principal=principal)["contact_id"]
            for i in range(3)]
        done = prevention.create_warning(s, body=WarningIn(contact_id=ids[1], method="call"), principal=principal)
        prevention.record_outcome(s, warning_id=done["warning_id"], body=WarningOutcome(outcome="reached"),
                                  principal=principal)
        prevention.create_warning(s, body=WarningIn(contact_id=ids[2], method="visit"), principal=principal)
    now = dt.datetime.now(dt.UTC)
    assert retention.run(db=db, settings=settings, now=now, actor="retention")[0]["erased"] == 0
    out = retention.run(db=db, settings=settings, now=now + dt.timedelta(days=400), actor="retention")
    assert out[0]["erased"] == 2 and out[0]["kept"] == 1
    with db.sessionmaker() as s:
        assert list(s.scalars(select(FraudContact.id))) == [ids[2]]
        assert [w.contact_id for w in s.scalars(select(FraudWarning))] == [ids[2]]
        rec = s.scalars(select(AuditRecord).where(AuditRecord.resource == "fraud.contacts",
                                                  AuditRecord.action == "erasure")).all()
    assert [r.result_count for r in rec] == [0, 2]
