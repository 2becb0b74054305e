"""Operational tables of plate-read intelligence (the reads themselves live in the warehouse).

Hotlists with reasons and expiry, the alerts raised when a read hits one, the cameras (readers)
with their positions, and reads pinned to a case (kept past the retention period).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from precinct.core.db import Base, UTCDateTime, utcnow

BIGINT = BigInteger().with_variant(Integer, "sqlite")


class Camera(Base):
    """A fixed reader (卡口 checkpoint camera or e-bike tag reader)."""

    __tablename__ = "anpr_cameras"

    camera_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    name: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(8), default="plate")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HotlistEntry(Base):
    """A plate or tag to alert on: stolen vehicle, stolen e-bike tag, wanted vehicle."""

    __tablename__ = "anpr_hotlist"
    __table_args__ = (Index("ix_anpr_hotlist_plate_active", "plate", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plate: Mapped[str] = mapped_column(String(32))
    list_name: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    """A read that hit a hotlist entry. ``rid`` names the read in the warehouse (kept forever)."""

    __tablename__ = "anpr_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rid: Mapped[int] = mapped_column(BIGINT, index=True)
    hotlist_id: Mapped[int] = mapped_column(Integer, index=True)
    plate: Mapped[str] = mapped_column(String(32), index=True)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    camera_id: Mapped[str | None] = mapped_column(String(128))
    list_name: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CaseRead(Base):
    """A read tied to a case as evidence; retention keeps it while the pin exists."""

    __tablename__ = "anpr_case_reads"
    __table_args__ = (Index("ix_anpr_case_reads_case_rid", "case_id", "rid", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(128))
    rid: Mapped[int] = mapped_column(BIGINT, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
