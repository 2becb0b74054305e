"""Tables of the cases domain (migration 0010_cases): cases, their members, teams, scenes, links,
notes, tasks (requests for service between teams) and the configurable handling deadlines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from precinct.core.db import Base, UTCDateTime, utcnow


class Case(Base):
    """A case (案件): the key to personal data. Ids are issued by Precinct (``C20261204-0001``);
    ``ref`` is the force's own case number. Ids of cases brought over from free-text case ids keep
    their old text (up to 128 characters), so earlier audit records still name them."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    stage_since: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lead: Mapped[str] = mapped_column(String(64), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16), default="opened")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))
    close_reason: Mapped[str | None] = mapped_column(Text)
    disposition: Mapped[str | None] = mapped_column(String(32))


class CaseMember(Base):
    """A user on a case (the lead is a member too)."""

    __tablename__ = "case_members"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseTeam(Base):
    """A team (警种) working the case."""

    __tablename__ = "case_teams"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class CaseScene(Base):
    """A scene: a place and a time window (what vehicle–case association searches around)."""

    __tablename__ = "case_scenes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_km: Mapped[float] = mapped_column(Float, default=1.0)
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseLink(Base):
    """An incident, call or order linked to the case."""

    __tablename__ = "case_links"
    __table_args__ = (Index("ix_case_links_case_kind_ref", "case_id", "kind", "ref_id", unique=True),
                      Index("ix_case_links_kind_ref", "kind", "ref_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[str] = mapped_column(String(64))
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseNote(Base):
    """A note on the case's timeline."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseTask(Base):
    """A task or request for service (请求服务) to a team or a user, with a deadline and a result."""

    __tablename__ = "case_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    team: Mapped[str | None] = mapped_column(String(32), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseDeadline(Base):
    """A configured handling deadline (days) for a case type and stage; overrides the default."""

    __tablename__ = "case_deadlines"

    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    days: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
