"""Anti-fraud tables (反诈): reports, normalised identifiers, clusters, stop-payment and freeze requests,
recorded contacts with fraud identifiers, and warning tasks.

Money is kept in integer cents (分) of its currency: exact sums on SQLite and PostgreSQL alike.
Clusters are connected components of the report–identifier graph; every report and identifier
carries its cluster's id, and a merge relabels the smaller clusters (union by size).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from precinct.core.db import Base, UTCDateTime, utcnow


class FraudCluster(Base):
    """Reports linked by shared identifiers; the case the cluster's reports belong to."""

    __tablename__ = "fraud_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    first_report_id: Mapped[str] = mapped_column(String(64), unique=True)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    identifier_count: Mapped[int] = mapped_column(Integer, default=0)
    loss_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    first_ts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_ts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FraudReport(Base):
    """One victim's report (personal data: the victim's name and phone)."""

    __tablename__ = "fraud_reports"
    __table_args__ = (Index("ix_fraud_reports_ts", "ts"),
                      Index("ix_fraud_reports_type_ts", "fraud_type", "ts"))  # the wave check (0023_fraud2)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    cluster_id: Mapped[int] = mapped_column(Integer, index=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    fraud_type: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(16))
    loss_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    victim_name: Mapped[str | None] = mapped_column(String(128))
    victim_phone: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FraudIdentifier(Base):
    """A normalised identifier (kind + value) seen in at least one report."""

    __tablename__ = "fraud_identifiers"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_fraud_identifiers_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(256))
    bank: Mapped[str | None] = mapped_column(String(64))
    cluster_id: Mapped[int] = mapped_column(Integer, index=True)
    report_count: Mapped[int] = mapped_column(Integer, default=0)


class FraudReportIdentifier(Base):
    """That a report names an identifier, and how the victim wrote it."""

    __tablename__ = "fraud_report_identifiers"

    report_id: Mapped[str] = mapped_column(String(64), ForeignKey("fraud_reports.id"), primary_key=True)
    identifier_id: Mapped[int] = mapped_column(Integer, ForeignKey("fraud_identifiers.id"), primary_key=True,
                                               index=True)
    raw: Mapped[str] = mapped_column(String(256))


class FraudRequest(Base):
    """A stop-payment (止付) or freeze (冻结) request for one account to its bank, with its legal clock."""

    __tablename__ = "fraud_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    cluster_id: Mapped[int | None] = mapped_column(Integer, index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    bank: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    amount_requested_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_held_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_returned_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class FraudRequestEvent(Base):
    """One change of a request's state (the request's history)."""

    __tablename__ = "fraud_request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(40), ForeignKey("fraud_requests.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class FraudContact(Base):
    """A recorded link between a person and a known fraud identifier (a call received, a payment made).

    Warnings come only from these records: never from a score.
    """

    __tablename__ = "fraud_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_name: Mapped[str | None] = mapped_column(String(128))
    person_phone: Mapped[str] = mapped_column(String(32), index=True)
    link: Mapped[str] = mapped_column(String(16))
    identifier_id: Mapped[int] = mapped_column(Integer, ForeignKey("fraud_identifiers.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FraudWarning(Base):
    """A warning task (预警劝阻) for one recorded contact: call, text message or visit, and its outcome."""

    __tablename__ = "fraud_warnings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(Integer, ForeignKey("fraud_contacts.id"), index=True)
    cluster_id: Mapped[int] = mapped_column(Integer, index=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(8))
    template: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    outcome: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
