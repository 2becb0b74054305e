"""Tables of one-click orders (一键下达): orders, recipients' acknowledgements, history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from precinct.core.db import Base, UTCDateTime, utcnow


class Order(Base):
    """An order (指令) to many recipients, moving through 研、交、办、督、结."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(10))
    incident_id: Mapped[str | None] = mapped_column(String(40))
    recipients_spec: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    issued_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class OrderRecipient(Base):
    """One recipient of an order (a unit or a user), who must acknowledge it."""

    __tablename__ = "order_recipients"
    __table_args__ = (Index("ix_order_recipients_order_recipient", "order_id", "recipient", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    recipient: Mapped[str] = mapped_column(String(128), index=True)
    via: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class OrderEvent(Base):
    """History of an order: issue, acknowledgements, state changes, escalations."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")
