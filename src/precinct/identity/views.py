"""Login, the caller's identity, logout, and user administration."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from precinct.core.access import allow, get_db, get_settings_dep, public
from precinct.core.db import utcnow
from precinct.core.identity import Principal, authenticate, create_user, refresh_token, revoke_session
from precinct.core.models import User
from precinct.core.roles import Role
from precinct.core.streams import SESSIONS_REVOKED, session_digest
from precinct.identity.schemas import Me, Token, UserCreate, UserOut

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
        bus = getattr(request.app.state, "bus", None)
        if bus is not None:  # every worker's live board ends this session's streams
            with contextlib.suppress(Exception):
                bus.publish(SESSIONS_REVOKED, {"session": session_digest(principal.session_id)})


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, principal: Annotated[Principal, allow("users.list")]) -> list[UserOut]:
    """Accounts and whether each is locked."""
    now = utcnow()
    with get_db(request).sessionmaker() as s:
        users = s.scalars(select(User).order_by(User.username)).all()
        return [UserOut(id=u.id, username=u.username, role=Role(u.role), display_name=u.display_name,
                        unit_id=u.unit_id, locked=bool(u.locked_until and u.locked_until > now)) for u in users]


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(request: Request, body: UserCreate, principal: Annotated[Principal, allow("users.manage")]) -> UserOut:
    """Create an account (audited)."""
    with get_db(request).session() as s:
        u = create_user(s, username=body.username, role=body.role, password=body.password,
                        display_name=body.display_name, unit_id=body.unit_id, actor=principal.username)
        return UserOut(id=u.id, username=u.username, role=Role(u.role), display_name=u.display_name,
                       unit_id=u.unit_id)
