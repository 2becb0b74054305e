"""Users, passwords (Argon2), login with lockout, bearer tokens bound to server-side sessions."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterable
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
from precinct.errors import BadInput, ConfigurationError, Conflict, NotAuthenticated, NotFound

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
    select(UserSession.id, UserSession.created_at, UserSession.last_seen, UserSession.revoked,
           User.id.label("user_id"),
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


def username_key(username: str) -> str:
    """The form two usernames are compared in: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", username).casefold()


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
    username = unicodedata.normalize("NFKC", username)
    folded = username_key(username)
    # one account per name compared case-insensitively (NFKC + casefold): Victim1 is victim1
    clash = next((n for n in session.scalars(select(User.username)) if username_key(n) == folded), None)
    if clash is not None:
        raise Conflict(f"user {username!r} already exists" + (f" (as {clash!r})" if clash != username else ""),
                       detail={"field": "username"})
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


class LoginThrottle:
    """Per-source backoff for failed logins (in memory, per process).

    After ``login_backoff_after`` failures from one source address, that source must wait
    1, 2, 4 ... seconds (at most ``login_backoff_max_s``) between attempts; while it waits its
    attempts are refused unchecked, with the same answer as a wrong password. The account itself
    is never locked by failures, so an outsider cannot lock a user out; the account's own failure
    counter only raises an alert (an audit record) for the supervisors.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], tuple[int, float]] = {}

    def blocked(self, key: tuple[str, str]) -> bool:
        with self._lock:
            _n, until = self._state.get(key, (0, 0.0))
        return until > time.monotonic()

    def failed(self, key: tuple[str, str]) -> None:
        from precinct.config import get_limits

        limits = get_limits()
        with self._lock:
            if len(self._state) > 100_000:
                self._state.clear()
            n = self._state.get(key, (0, 0.0))[0] + 1
            wait = 0.0 if n < limits.login_backoff_after else min(
                limits.login_backoff_max_s, 2.0 ** min(n - limits.login_backoff_after, 30))
            self._state[key] = (n, time.monotonic() + wait)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._state.pop(key, None)


THROTTLE = LoginThrottle()
_LOGIN_FAILED = "wrong username or password"


def authenticate(db: Database, settings: Settings, *, username: str, password: str,
                 source: str | None = None) -> tuple[User, str]:
    """Check a password and open a session; returns the user and a bearer token.

    Every failure (unknown user, wrong password, a disabled or administratively locked account,
    a source that must wait) gets the same answer. Failures back off per source address
    (:class:`LoginThrottle`); the account's failure counter is incremented atomically in the
    database (``UPDATE ... SET failed_logins = failed_logins + 1``) and, on reaching
    ``max_failed_logins``, writes an ``alert`` audit record for the supervisors. Every attempt
    is audited.
    """
    now = utcnow()
    key = (str(db.engine.url), source or "?")
    ok = False
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if THROTTLE.blocked(key):
            audit.append(s, actor=username[:64] or "?", role=user.role if user else "unknown",
                         action=AuditAction.login, resource="auth", outcome="throttled",
                         params={"source": source})
        elif user is None or not user.active:
            _verify(_dummy_hash(), password)
            audit.append(s, actor=username[:64] or "?", role="unknown", action=AuditAction.login,
                         resource="auth", outcome="unknown_user", params={"source": source})
            THROTTLE.failed(key)
        elif user.locked_until is not None and user.locked_until > now:
            _verify(_dummy_hash(), password)
            audit.append(s, actor=user.username, role=user.role, action=AuditAction.login,
                         resource="auth", outcome="locked", params={"source": source})
            THROTTLE.failed(key)
        elif not _verify(user.password_hash, password):
            count = s.execute(update(User).where(User.id == user.id)
                              .values(failed_logins=User.failed_logins + 1)
                              .returning(User.failed_logins)).scalar_one()
            audit.append(s, actor=user.username, role=user.role, action=AuditAction.login,
                         resource="auth", outcome="bad_password", params={"source": source})
            if count == settings.max_failed_logins:
                audit.append(s, actor=user.username, role=user.role, action=AuditAction.login,
                             resource="auth.alert", outcome="alert",
                             params={"failed_logins": count, "source": source,
                                     "note": "repeated failed logins; the account is not locked"})
            THROTTLE.failed(key)
        else:
            ok = True
            s.execute(update(User).where(User.id == user.id).values(failed_logins=0))
            sid = secrets.token_urlsafe(24)
            s.add(UserSession(id=sid, user_id=user.id, created_at=now, last_seen=now))
            audit.append(s, actor=user.username, role=user.role, action=AuditAction.login,
                         resource="auth", outcome="ok", params={"session": sid[:8], "source": source})
            token = issue_token(settings, user=user, session_id=sid, session_start=now)
            THROTTLE.succeeded(key)
    if not ok or user is None:
        raise NotAuthenticated(_LOGIN_FAILED)
    return user, token


def _verify(hash_: str, password: str) -> bool:
    try:
        return _hasher.verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def session_limit() -> dt.timedelta:
    """The absolute length of a session (``PRECINCT_SESSION_MAX_HOURS``, one shift by default):
    activity keeps a session from going idle, never beyond this."""
    from precinct.config import get_limits

    return dt.timedelta(hours=get_limits().session_max_hours)


def issue_token(settings: Settings, *, user: User, session_id: str,
                session_start: dt.datetime | None = None) -> str:
    """A short-lived token for a session; it never outlives the session's absolute limit."""
    now = utcnow()
    exp = now + dt.timedelta(minutes=settings.token_ttl_minutes)
    if session_start is not None:
        exp = min(exp, session_start + session_limit())
    claims = {
        "sub": user.username, "uid": user.id, "role": user.role, "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int(exp.timestamp()),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


def resolve_token(db: Database, settings: Settings, token: str) -> Principal:
    """Validate a bearer token against its session: expired, revoked or idle sessions are refused."""
    claims = _claims(settings.secret_key.get_secret_value(), token)
    return session_principal(db, settings, claims["sid"], user_id=claims["uid"])


def session_principal(db: Database, settings: Settings, session_id: str, *, user_id: int | None = None,
                      touch: bool = True) -> Principal:
    """The principal of a live session (as :func:`resolve_token`, from the session id itself).

    Raises ``NotAuthenticated`` when the session is unknown, revoked, idle, past its absolute
    limit, its user is inactive, or (with ``user_id``) belongs to another user. ``touch`` counts
    the call as activity.
    """
    now = utcnow()
    idle = dt.timedelta(minutes=settings.idle_timeout_minutes)
    # one Core query (no ORM unit of work): this runs on every request
    with db.read_engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one statement: no BEGIN / ROLLBACK round trips
            conn.execution_options(isolation_level="AUTOCOMMIT")
        row = conn.execute(_SESSION_QUERY, {"sid": session_id}).first()
    if row is None or row.revoked or not row.active or (user_id is not None and row.user_id != user_id):
        raise NotAuthenticated("session ended; log in again")
    last_seen = _utc(row.last_seen)
    if now - _utc(row.created_at) > session_limit():
        raise NotAuthenticated("session reached its time limit; log in again")
    if now - last_seen > idle:
        raise NotAuthenticated("session expired after inactivity; log in again")
    if touch and now - last_seen > _TOUCH_INTERVAL:
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
        now = utcnow()
        if now - _utc(row.created_at) > session_limit():
            raise NotAuthenticated("session reached its time limit; log in again")
        row.last_seen = now
        return issue_token(settings, user=user, session_id=row.id, session_start=_utc(row.created_at))


def live_sessions(db: Database, settings: Settings, session_ids: Iterable[str]) -> set[str]:
    """Which of ``session_ids`` are still live (not revoked, idle or past their limit; user active).

    One query per 500 ids, no writes: the live board asks it every few seconds for its streams.
    """
    ids = list(dict.fromkeys(session_ids))
    now = utcnow()
    idle = dt.timedelta(minutes=settings.idle_timeout_minutes)
    limit = session_limit()
    live: set[str] = set()
    query = (select(UserSession.id, UserSession.created_at, UserSession.last_seen, UserSession.revoked, User.active)
             .join(User, User.id == UserSession.user_id))
    with db.read_engine.connect() as conn:
        for i in range(0, len(ids), 500):
            for row in conn.execute(query.where(UserSession.id.in_(ids[i:i + 500]))):
                if (not row.revoked and row.active and now - _utc(row.created_at) <= limit
                        and now - _utc(row.last_seen) <= idle):
                    live.add(row.id)
    return live


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
