"""Request bodies of units and dispatch."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from precinct.calls.types import UnitType


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
