"""Patrol tables: the history of risk-grid ratings (every re-rating is kept)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from precinct.core.db import Base, UTCDateTime, utcnow


class RiskRating(Base):
    """One rating of one grid cell; a new row only when a cell's colour changes (or first rating)."""

    __tablename__ = "patrol_risk_ratings"
    __table_args__ = (Index("ix_patrol_risk_ratings_cell_rated_at", "cell", "rated_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cell: Mapped[str] = mapped_column(String(32))
    resolution: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(8))
    previous: Mapped[str | None] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    incidents: Mapped[int] = mapped_column(Integer)
    window_days: Mapped[float] = mapped_column(Float)
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rated_by: Mapped[str] = mapped_column(String(64))
