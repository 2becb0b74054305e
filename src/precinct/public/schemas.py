"""Request bodies of the public-communication API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class AlertTexts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str | None = Field(default=None, max_length=120)
    headline: str | None = Field(default=None, max_length=160)
    description: str | None = Field(default=None, max_length=4000)
    instruction: str | None = Field(default=None, max_length=2000)


class AlertArea(BaseModel):
    model_config = ConfigDict(extra="forbid")

    circle: str | None = Field(default=None, description="LAT,LON,KM", max_length=100)
    polygon: str | None = Field(default=None, description="'lat,lon lat,lon ...' (closed) or a GeoJSON Polygon",
                                max_length=100_000)
    station: str | None = Field(default=None, description="a station area's id", max_length=64)


class AlertCreate(AlertArea):
    """A new alert: texts in Chinese and/or English, the area, urgency, severity, certainty."""

    zh: AlertTexts | None = Field(default=None, description="简体中文 texts (zh-CN)")
    en: AlertTexts | None = Field(default=None, description="English texts (en-US)")
    urgency: str = Field(max_length=16)
    severity: str = Field(max_length=16)
    certainty: str = Field(max_length=16)
    category: str = Field(default="Safety", max_length=16)
    status: str = Field(default="Actual", max_length=10)
    onset: dt.datetime | None = None
    expires_hours: float = Field(default=24.0, gt=0, le=24 * 30)


class AlertUpdate(AlertArea):
    """Changes for an Update of a published alert (fields left out stay as they were)."""

    zh: AlertTexts | None = None
    en: AlertTexts | None = None
    urgency: str | None = Field(default=None, max_length=16)
    severity: str | None = Field(default=None, max_length=16)
    certainty: str | None = Field(default=None, max_length=16)
    expires_hours: float | None = Field(default=None, gt=0, le=24 * 30)


class AlertCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class StationAreaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str = Field(min_length=1, max_length=128)
    points: list[list[float]] = Field(description="closed ring of [lat, lon]", max_length=1000)


class BulletinTexts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_zh: str | None = Field(default=None, max_length=200)
    title_en: str | None = Field(default=None, max_length=200)
    body_zh: str | None = Field(default=None, max_length=8000)
    body_en: str | None = Field(default=None, max_length=8000)


class BulletinCreate(BulletinTexts):
    """A bulletin about an incident or a case; ``strip`` replaces personal data instead of refusing."""

    source_kind: str = Field(description="incident or case", max_length=16)
    source_id: str = Field(min_length=1, max_length=64)
    strip: bool = False


class BulletinWithdraw(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)


class CallbackGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: float = Field(default=7.0, gt=0, le=366, description="incidents received in the last N days")
    rate: float = Field(default=1.0, ge=0, le=1, description="fraction called back")
    type_rates: dict[str, float] = Field(default_factory=dict, description="per incident type, overrides rate")


class CallbackOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(description="reached, not_reached or declined", max_length=16)
    score: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)
    complaint: bool = False
    complaint_to: list[str] | None = Field(default=None, max_length=20,
                                           description="order recipients for the complaint (user:NAME, station:NAME); "
                                           "left out: the setting public_complaint_to; [] = no order")
