"""Login, the caller's identity, logout, and user administration."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.core import audit
from precinct.core.access import allow, get_db, get_settings_dep, public
from precinct.core.db import utcnow
from precinct.core.identity import (
    Principal,
    authenticate,
    create_user,
    refresh_token,
    revoke_session,
    unlock_user,
)
from precinct.core.models import User
from precinct.core.roles import AuditAction, Role
from precinct.core.streams import SESSIONS_REVOKED, session_digest
from precinct.errors import Conflict, NotFound
from precinct.identity import accounts
from precinct.identity.schemas import (
    Me,
    PasswordChange,
    Token,
    UserActive,
    UserCreate,
    UserOut,
    UserPassword,
    UserRole,
)

router = APIRouter(tags=["identity"])


@router.post("/auth/token", response_model=Token, dependencies=[public],
             responses={401: {"description": "login failed (one answer for every reason)"}})
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: a short-lived bearer token bound to a server-side session."""
    settings = get_settings_dep(request)
    user, token = authenticate(get_db(request), settings, username=form.username, password=form.password,
                               source=request.client.host if request.client else None)
    return Token(access_token=token, expires_in=settings.token_ttl_minutes * 60,
                 role=Role(user.role), username=user.username)


@router.post("/auth/refresh", response_model=Token)
def refresh(request: Request, principal: Annotated[Principal, allow("auth.session")]) -> Token:
    """A fresh short-lived token for the same session (refused once the session is idle or ended)."""
    settings = get_settings_dep(request)
    token = refresh_token(get_db(request), settings, principal)
    return Token(access_token=token, expires_in=settings.token_ttl_minutes * 60,
                 role=principal.role, username=principal.username)


@router.get("/auth/me", response_model=Me)
def me(principal: Annotated[Principal, allow("auth.session")]) -> Me:
    """Who the token belongs to."""
    return Me(username=principal.username, role=principal.role, unit_id=principal.unit_id)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, principal: Annotated[Principal, allow("auth.session")]) -> None:
    """End the session behind the token (its live-board streams end within seconds)."""
    if principal.session_id:
        revoke_session(get_db(request), principal.session_id)
        _tell_boards(request, [principal.session_id])


def _tell_boards(request: Request, session_ids: list[str]) -> None:
    """Every worker's live board ends these sessions' streams (the sessions are already revoked)."""
    bus = getattr(request.app.state, "bus", None)
    if bus is not None:
        for sid in session_ids:
            with contextlib.suppress(Exception):
                bus.publish(SESSIONS_REVOKED, {"session": session_digest(sid)})


@router.post("/auth/password", status_code=204,
             responses={422: {"description": "the current password is wrong, or the new one breaks the rules"}})
def change_password(request: Request, body: PasswordChange,
                    principal: Annotated[Principal, allow("auth.password")]) -> None:
    """Change your own password (the current one is checked); your other sessions end (audited,
    without the passwords)."""
    with get_db(request).session() as s:
        ended = accounts.change_own_password(s, principal=principal, current=body.current_password,
                                             new=body.new_password)
    _tell_boards(request, ended)


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, principal: Annotated[Principal, allow("users.list")]) -> list[UserOut]:
    """Accounts and whether each is locked."""
    now = utcnow()
    with get_db(request).sessionmaker() as s:
        users = s.scalars(select(User).order_by(User.username)).all()
        return [_out(u, now) for u in users]


def _out(u: User, now: dt.datetime) -> UserOut:
    locked_until = u.locked_until
    if locked_until is not None and locked_until.tzinfo is None:  # SQLite hands back naive UTC
        locked_until = locked_until.replace(tzinfo=dt.UTC)
    return UserOut(id=u.id, username=u.username, role=Role(u.role), display_name=u.display_name,
                   unit_id=u.unit_id, locked=bool(locked_until and locked_until > now), active=bool(u.active))


def _user(s: Session, user_id: int) -> User:
    u = s.get(User, user_id)
    if u is None:
        raise NotFound(f"no user with id {user_id}", detail={"field": "user_id", "value": user_id})
    return u


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(request: Request, body: UserCreate, principal: Annotated[Principal, allow("users.manage")]) -> UserOut:
    """Create an account (audited)."""
    with get_db(request).session() as s:
        u = create_user(s, username=body.username, role=body.role, password=body.password,
                        display_name=body.display_name, unit_id=body.unit_id, actor=principal.username)
        return UserOut(id=u.id, username=u.username, role=Role(u.role), display_name=u.display_name,
                       unit_id=u.unit_id)


@router.post("/users/{user_id}/active", response_model=UserOut,
             responses={404: {"description": "no such user"},
                        409: {"description": "you cannot disable yourself, nor the last active administrator"}})
def set_active(request: Request, user_id: int, body: UserActive,
               principal: Annotated[Principal, allow("users.manage")]) -> UserOut:
    """Disable an account (its sessions end at their next request) or enable it again (audited)."""
    with get_db(request).session() as s:
        u = _user(s, user_id)
        if not body.active and u.id == principal.user_id:
            raise Conflict("you cannot disable your own account", detail={"field": "user_id", "value": user_id})
        if not body.active:
            accounts.guard_last_admin(s, u, op="disable")
        u.active = body.active
        audit.append(s, actor=principal.username, role=principal.role.value, action=AuditAction.administration,
                     resource="users", params={"op": "enable" if body.active else "disable", "username": u.username})
        s.flush()
        return _out(u, utcnow())


@router.post("/users/{user_id}/unlock", response_model=UserOut,
             responses={404: {"description": "no such active user"}})
def unlock(request: Request, user_id: int, principal: Annotated[Principal, allow("users.manage")]) -> UserOut:
    """Clear a lockout and the failed-login count (audited)."""
    with get_db(request).session() as s:
        u = _user(s, user_id)
        unlock_user(s, username=u.username, actor=principal.username)
        s.flush()
        return _out(u, utcnow())


@router.post("/users/{user_id}/role", response_model=UserOut,
             responses={404: {"description": "no such user"},
                        409: {"description": "the last active administrator cannot be demoted"}})
def set_role(request: Request, user_id: int, body: UserRole,
             principal: Annotated[Principal, allow("users.manage")]) -> UserOut:
    """Give the user another role; their sessions end, they log in again with it (audited)."""
    with get_db(request).session() as s:
        u, ended = accounts.change_role(s, user_id=user_id, role=body.role, principal=principal)
        out = _out(u, utcnow())
    _tell_boards(request, ended)
    return out


@router.post("/users/{user_id}/password", response_model=UserOut,
             responses={404: {"description": "no such user"}})
def reset_password(request: Request, user_id: int, body: UserPassword,
                   principal: Annotated[Principal, allow("users.manage")]) -> UserOut:
    """Set a new password for the user (give it to them in person); their sessions end and a
    lockout is cleared (audited, without the password)."""
    with get_db(request).session() as s:
        u, ended = accounts.reset_password(s, user_id=user_id, password=body.password, principal=principal)
        out = _out(u, utcnow())
    _tell_boards(request, ended)
    return out
