"""Request and response bodies of call intake and incidents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from precinct.calls.types import Priority


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
