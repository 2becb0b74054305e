from __future__ import annotations

from pydantic import BaseModel, Field

from precinct.core.roles import Role


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="seconds until the token expires")
    role: Role
    username: str


class Me(BaseModel):
    username: str
    role: Role
    unit_id: str | None = None


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=8, max_length=256)
    display_name: str | None = Field(default=None, max_length=128)
    unit_id: str | None = Field(default=None, max_length=64)


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    display_name: str | None = None
    unit_id: str | None = None
    locked: bool = False
    active: bool = True


class UserActive(BaseModel):
    active: bool = Field(description="false disables the account (its sessions end); true enables it")


class UserRole(BaseModel):
    role: Role = Field(description="the new role; the user's sessions end")


class UserPassword(BaseModel):
    password: str = Field(min_length=8, max_length=256,
                          description="the new password (rules as at creation); the user's sessions end")


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)
