"""Request bodies of the cases API (pydantic); field errors come back as 422 naming the field."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

Name = Field(min_length=1, max_length=64)


class CaseIn(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="what the case is about")
    type: str = Field(min_length=1, max_length=32, description="case type code (GET /cases/codes)")
    members: list[str] = Field(default_factory=list, max_length=200, description="usernames besides the lead")
    teams: list[str] = Field(default_factory=list, max_length=20, description="team codes (警种)")
    ref: str | None = Field(default=None, max_length=128, description="the force's own case number")
    summary: str = Field(default="", max_length=10_000)
    lead: str | None = Field(default=None, max_length=64, description="the lead (default: the caller)")


class CloseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    disposition: str | None = Field(default=None, max_length=32, description="disposition code")


class MemberIn(BaseModel):
    username: str = Name


class TeamIn(BaseModel):
    team: str = Field(min_length=1, max_length=32)


class StageIn(BaseModel):
    stage: str = Field(min_length=1, max_length=16)


class LinkIn(BaseModel):
    kind: str = Field(description="incident, call or order", min_length=1, max_length=16)
    id: str = Field(min_length=1, max_length=64)


class SceneIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    start: AwareDatetime
    end: AwareDatetime
    radius_km: float = Field(default=1.0, gt=0, le=100)
    label: str = Field(default="", max_length=200)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    team: str | None = Field(default=None, max_length=32)
    assignee: str | None = Field(default=None, max_length=64)
    deadline: AwareDatetime | None = None
    detail: str = Field(default="", max_length=10_000)


class TaskUpdate(BaseModel):
    status: str | None = Field(default=None, max_length=16)
    result: str | None = Field(default=None, max_length=10_000)
    deadline: AwareDatetime | None = None


class DeadlineIn(BaseModel):
    type: str = Field(min_length=1, max_length=32)
    stage: str = Field(min_length=1, max_length=16)
    days: float = Field(gt=0, le=3650)


class OrderIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=10_000)
    recipients: list[str] = Field(min_length=1, max_length=500, description="unit:<id>, user:<name>, ...")
    deadline: AwareDatetime | None = None
    deadline_minutes: float | None = Field(default=None, gt=0, le=7 * 24 * 60)
    priority: str = Field(default="orange", max_length=10)
