"""Request bodies of orders."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from precinct.calls.types import Priority


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=8000)
    recipients: list[str] = Field(
        min_length=1,
        max_length=1000,
        description="unit:<id>, user:<name>, station:<name>, group:<name>, all",
    )
    deadline: dt.datetime | None = Field(default=None, description="absolute deadline (with offset)")
    deadline_minutes: float | None = Field(default=None, gt=0, le=60 * 24 * 30, description="or: minutes from now")
    priority: Priority = Priority.orange
    incident_id: str | None = Field(default=None, max_length=40)
    draft: bool = Field(default=False, description="start in 研 (analyse) instead of issuing")

    @model_validator(mode="after")
    def _deadline(self) -> OrderCreate:
        if (self.deadline is None) == (self.deadline_minutes is None):
            raise ValueError("give exactly one of deadline and deadline_minutes")
        if self.deadline is not None and self.deadline.tzinfo is None:
            raise ValueError("deadline needs a timezone offset (or Z)")
        return self


class OrderAck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient: str | None = Field(
        default=None, max_length=128, description="unit:<id> or user:<name>; default: your own"
    )
    note: str = Field(default="", max_length=2000)


class OrderAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(description="analyse, assign, handle, supervise or close")
    note: str = Field(default="", max_length=2000)
