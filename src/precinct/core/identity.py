"""Users, passwords (Argon2), login with lockout, bearer tokens bound to server-side sessions."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from precinct.config import Settings
from precinct.core import audit
from precinct.core.db import Database, utcnow
from precinct.core.models import User, UserSession
from precinct.core.roles import AuditAction, Role
from precinct.errors import AccountLocked, BadInput, ConfigurationError, Conflict, NotAuthenticated, NotFound

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against a real hash when the user does not exist keeps timing uniform.
    (Made on first use: hashing at import time cost every CLI start-up most of a second.)"""
    return _hasher.hash("precinct-dummy-password")


MIN_PASSWORD_LENGTH = 8
# A session's last_seen is only rewritten when older than this, to spare the write lock.
_TOUCH_INTERVAL = dt.timedelta(seconds=60)
_VERIFIED: dict[tuple[str, str], dict[str, Any]] = {}
_VERIFIED_MAX = 20_000
_SESSION_QUERY = (
    select(UserSession.id, UserSession.last_seen, UserSession.revoked, User.id.label("user_id"),
           User.username, User.role, User.unit_id, User.active)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("sid"))
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the authenticated user and role (API) or the named CLI user."""

    user_id: int
    username: str
    role: Role
    session_id: str | None = None
    unit_id: str | None = None


def create_user(
    session: Session, *, username: str, role: Role | str, password: str,
    display_name: str | None = None, unit_id: str | None = None, actor: str = "system",
) -> User:
    try:
        role = Role(role)
    except ValueError:
        raise BadInput(f"unknown role {role!r}", detail={"field": "role", "allowed": [r.value for r in Role]}) from None
    if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise BadInput("username must be 1-64 letters, digits, '.', '_' or '-'", detail={"field": "username"})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters", detail={"field": "password"})
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", detail={"field": "username"})
    user = User(username=username, role=role.value, password_hash=_hasher.hash(password),
                display_name=display_name, unit_id=unit_id)
    session.add(user)
    session.flush()
    audit.append(session, actor=actor, role="admin" if actor != "system" else "system",
                 action=AuditAction.administration, resource="users",
                 params={"op": "create", "username": username, "role": role.value})
    return user


# Accounts the demo creates carry this mark at the start of their display name. Older demo
# databases are recognised by the names the demo used before the mark ("demo <role>", "simulated ...").
DEMO_MARK = "[demo] "
_LEGACY_DEMO_NAMES = ("demo %", "simulated %")


def demo_accounts(session: Session) -> list[str]:
    """Usernames of the active accounts the demo created (known passwords: never in production)."""
    marks = [User.display_name.like(DEMO_MARK.replace("[", "_").replace("]", "_") + "%"),
             *(User.display_name.like(p) for p in _LEGACY_DEMO_NAMES)]
    rows = session.scalars(select(User.username).where(User.active.is_(True), or_(*marks))
                           .order_by(User.username)).all()
    return list(rows)


def refuse_demo_accounts_in_production(db: Database, settings: Settings) -> None:
    """Raise ConfigurationError when ``settings`` is production and active demo accounts exist."""
    if settings.environment != "production":
        return
    with db.sessionmaker() as s:
        names = demo_accounts(s)
    if names:
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise ConfigurationError(
            f"refusing to start in production: {len(names)} active demo account(s) with published "
            f"passwords exist ({shown}); deactivate or delete them first "
            "(this database once ran `precinct demo`)",
            detail={"demo_accounts": names})


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound(f"no active user {username!r}", detail={"field": "username"})
    return user


def authenticate(db: Database, settings: Settings, *, username: str, password: str) -> tuple[User, str]:
    """Check a password, apply lockout, open a session; returns the user and a bearer token.

    Every attempt is audited. The lockout counter commits even when the attempt fails.
    """
    now = utcnow()
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            _verify(_dummy_hash(), password)
            audit.append(s, actor=username[:64] or "?", role="unknown", action=AuditAction.login,
                         resource="auth", outcome="unknown_user")
            failure: Exception | None = NotAuthenticated("wrong username or password")
        elif user.locked_until is not None and user.locked_until > now:
            audit.append(s, actor=user.username, role=user.role, action=AuditAction.login,
                         resource="auth", outcome="locked")
            failure = AccountLocked(
                "account locked after repeated failed logins; ask an administrator or wait",
                detail={"locked_until": user.locked_until.isoformat()})
        elif not _verify(user.password_hash, password):
            user.failed_logins += 1
            outcome = "bad_password"
            if user.failed_logins >= settings.max_failed_logins:
                user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                outcome = "locked_now"
            audit.append(s, actor=user.username, role=user.role, action=AuditAction.login,
                         resource="auth", outcome=outcome)
            failure = NotAuthenticated("wrong username or password")
        else:
            failure = None
            user.failed_logins = 0
            user.locked_until = None
            sid = secrets.token_urlsafe(24)
            s.add(UserSession(id=sid, user_id=user.id, created_at=now, last_seen=now))
            audit.append(s, actor=user.username, role=user.role, action=AuditAction.login,
                         resource="auth", outcome="ok", params={"session": sid[:8]})
            token = issue_token(settings, user=user, session_id=sid)
    if failure is not None:
        raise failure
    assert user is not None
    return user, token


def _verify(hash_: str, password: str) -> bool:
    try:
        return _hasher.verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def issue_token(settings: Settings, *, user: User, session_id: str) -> str:
    now = utcnow()
    claims = {
        "sub": user.username, "uid": user.id, "role": user.role, "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=settings.token_ttl_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


def resolve_token(db: Database, settings: Settings, token: str) -> Principal:
    """Validate a bearer token against its session: expired, revoked or idle sessions are refused."""
    claims = _claims(settings.secret_key.get_secret_value(), token)
    now = utcnow()
    idle = dt.timedelta(minutes=settings.idle_timeout_minutes)
    # one Core query (no ORM unit of work): this runs on every request
    with db.read_engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one statement: no BEGIN / ROLLBACK round trips
            conn.execution_options(isolation_level="AUTOCOMMIT")
        row = conn.execute(_SESSION_QUERY, {"sid": claims["sid"]}).first()
    if row is None or row.revoked or not row.active or row.user_id != claims["uid"]:
        raise NotAuthenticated("session ended; log in again")
    last_seen = _utc(row.last_seen)
    if now - last_seen > idle:
        raise NotAuthenticated("session expired after inactivity; log in again")
    if now - last_seen > _TOUCH_INTERVAL:
        with db.write_lock, db.engine.begin() as conn:
            conn.execute(
                update(UserSession)
                .where(UserSession.id == row.id, UserSession.last_seen < now - _TOUCH_INTERVAL)
                .values(last_seen=now)
            )
    return Principal(user_id=row.user_id, username=row.username, role=Role(row.role),
                     session_id=row.id, unit_id=row.unit_id)


def _claims(secret: str, token: str) -> dict[str, Any]:
    """The verified claims of a token; a verified token's claims are remembered (its expiry is
    still checked on every use), which spares a signature check and JSON parse per request."""
    key = (secret, token)
    claims = _VERIFIED.get(key)
    if claims is None:
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"],
                                options={"require": ["exp", "sub", "sid", "uid"]})
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("token expired; log in again") from None
        except jwt.PyJWTError:
            raise NotAuthenticated("invalid token") from None
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[key] = claims
    elif claims["exp"] <= time.time():
        _VERIFIED.pop(key, None)
        raise NotAuthenticated("token expired; log in again")
    return claims


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def refresh_token(db: Database, settings: Settings, principal: Principal) -> str:
    """A new token for the caller's live session; the refresh counts as activity."""
    if principal.session_id is None:
        raise NotAuthenticated("no session to refresh")
    with db.session() as s:
        row = s.get(UserSession, principal.session_id)
        user = s.get(User, principal.user_id)
        if row is None or row.revoked or user is None or not user.active:
            raise NotAuthenticated("session ended; log in again")
        row.last_seen = utcnow()
        return issue_token(settings, user=user, session_id=row.id)


def revoke_session(db: Database, session_id: str) -> None:
    with db.session() as s:
        row = s.get(UserSession, session_id)
        if row is not None:
            row.revoked = True


def unlock_user(session: Session, *, username: str, actor: str) -> None:
    user = get_user(session, username)
    user.locked_until = None
    user.failed_logins = 0
    audit.append(session, actor=actor, role="admin", action=AuditAction.administration,
                 resource="users", params={"op": "unlock", "username": username})


def principal_for(session: Session, username: str | None) -> Principal:
    """The named Precinct user a CLI command acts as (``--as`` or ``PRECINCT_USER``)."""
    if not username:
        raise NotAuthenticated("name the Precinct user this command acts as: --as USER or PRECINCT_USER")
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotAuthenticated(f"no active Precinct user {username!r}")
    return Principal(user_id=user.id, username=user.username, role=Role(user.role), unit_id=user.unit_id)
