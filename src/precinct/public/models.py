"""Tables of public communication (舆, migration 0017_public): CAP alerts, bulletins, station areas,
callbacks and one history table for all of them.

Nothing here is personal data except ``PublicCallback.call_id`` (the way to the caller's number,
which stays in the command domain and is read with purpose ``callback``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from precinct.core.db import Base, UTCDateTime, utcnow


class PublicAlert(Base):
    """One CAP 1.2 message (Alert, Update or Cancel), drafted by one user and approved by another."""

    __tablename__ = "public_alerts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    msg_type: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), index=True)
    cap_status: Mapped[str] = mapped_column(String(10), default="Actual")
    references_id: Mapped[str | None] = mapped_column(String(40), index=True)
    category: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    certainty: Mapped[str] = mapped_column(String(16))
    texts: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(Text)
    onset: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cap_xml: Mapped[str | None] = mapped_column(Text)


class PublicBulletin(Base):
    """One version of a bulletin (警情通报); a correction is a new row that ``corrects`` the last."""

    __tablename__ = "public_bulletins"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    corrects: Mapped[str | None] = mapped_column(String(40), index=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    removed: Mapped[str] = mapped_column(Text, default="[]")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class PublicStationArea(Base):
    """A police station's area (派出所辖区) as a WGS84 polygon: alert areas and open-data areas."""

    __tablename__ = "public_station_areas"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    polygon: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublicCallback(Base):
    """A callback (回访) to the caller of a closed incident: outcome, satisfaction 1-5, comment."""

    __tablename__ = "public_callbacks"
    __table_args__ = (Index("ix_public_callbacks_incident", "incident_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(40))
    incident_type: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str | None] = mapped_column(String(10))
    station: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PublicHistory(Base):
    """What happened to an alert or a bulletin: drafted, approved, refused, corrected, withdrawn."""

    __tablename__ = "public_history"
    __table_args__ = (Index("ix_public_history_object", "object_kind", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    object_kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(40))
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
