"""Request and response bodies of the command domain: intake and incidents, units and dispatch, orders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from precinct.command.types import Priority, UnitType


class CallCreate(BaseModel):
    """A 110 call as the call-taker enters it: coordinates, or an address to resolve."""

    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90, description="WGS84 latitude")
    lon: float | None = Field(default=None, ge=-180, le=180, description="WGS84 longitude")
    address: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="street, junction or place name (中文 or Latin script)",
    )
    type: str = Field(min_length=1, max_length=40, description="incident-type code")
    priority: Priority | None = Field(default=None, description="five-colour priority; default from type")
    caller_phone: str | None = Field(default=None, max_length=32)
    caller_name: str | None = Field(default=None, max_length=128)
    description: str = Field(default="", max_length=4000)
    received_at: dt.datetime | None = Field(default=None, description="when the call came in")
    merge_into: str | None = Field(
        default=None, max_length=40, description="attach to this open incident instead of a new one"
    )

    @model_validator(mode="after")
    def _where(self) -> CallCreate:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither and an address")
        if self.lat is None and not self.address:
            raise ValueError("a location is needed: lat and lon, or an address")
        if self.received_at is not None and self.received_at.tzinfo is None:
            raise ValueError("received_at needs a timezone offset (or Z)")
        return self


class PriorityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: Priority
    reason: str = Field(default="", max_length=500)


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: str = Field(min_length=1, max_length=40, description="incident to merge this one into")


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disposition: str = Field(min_length=1, max_length=64, description="e.g. resolved, no_crime, referred")
    notes: str = Field(default="", max_length=4000)


class Duplicate(BaseModel):
    incident_id: str
    type: str
    status: str
    distance_m: float
    age_s: float


class CallCreated(BaseModel):
    id: str
    incident_id: str
    status: str
    type: str
    priority: Priority
    lat: float | None
    lon: float | None
    address: str | None = None
    location_source: str
    merged: bool = False
    duplicates: list[Duplicate] = []


IncidentOut = dict[str, Any]


# --- units and dispatch ----------------------------------------------------------------------

class UnitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[^\s/?#]+$")
    callsign: str | None = Field(default=None, max_length=64)
    unit_type: UnitType = UnitType.patrol
    station: str | None = Field(default=None, max_length=128)
    group: str | None = Field(default=None, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    ts: dt.datetime | None = Field(default=None, description="when the fix was taken (default: now)")


class UnitStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(pattern=r"^(available|out_of_service)$")


class DispatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_ids: list[str] = Field(min_length=1, max_length=20)


class UnitAction(BaseModel):
    """Acknowledge / arrive / clear: which unit (a patrol device may leave it out: its own unit)."""

    model_config = ConfigDict(extra="forbid")
    unit_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)


# --- orders ----------------------------------------------------------------------------------

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
