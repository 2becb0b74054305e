"""Tables of dispatch: units with their latest position, and assignments of units to incidents."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from precinct.core.db import Base, UTCDateTime, utcnow


class Unit(Base):
    """A police unit (a car, a team) that can be dispatched."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    callsign: Mapped[str] = mapped_column(String(64))
    unit_type: Mapped[str] = mapped_column(String(16))
    station: Mapped[str | None] = mapped_column(String(128), index=True)
    group_name: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    incident_id: Mapped[str | None] = mapped_column(String(40))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assignment(Base):
    """One unit sent to one incident, with the timestamps of its progress."""

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_incident_unit", "incident_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    eta_s: Mapped[float | None] = mapped_column(Float)
    dispatched_by: Mapped[str] = mapped_column(String(64))
    dispatched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
