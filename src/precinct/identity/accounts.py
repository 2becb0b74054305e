"""Account changes after creation (issue 21): an administrator changes a user's role, resets a
password, disables an account; a user changes their own password.

A role change and a password reset end every session of the user (the sessions are revoked in the
database, so the next request with any of their tokens is refused; the views also tell the live
boards, which end those streams). The last active administrator can be neither demoted nor
disabled. Every change is audited; a password never is.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from precinct.core import audit
from precinct.core.identity import MIN_PASSWORD_LENGTH, Principal
from precinct.core.models import User, UserSession
from precinct.core.roles import AuditAction, Role
from precinct.errors import BadInput, Conflict, NotFound

# Same Argon2 parameters as core.identity (the library's defaults); a hash records its own.
_hasher = PasswordHasher()


def get_account(session: Session, user_id: int) -> User:
    u = session.get(User, user_id)
    if u is None:
        raise NotFound(f"no user with id {user_id}", detail={"field": "user_id", "value": user_id})
    return u


def _check_password(password: str, field: str) -> None:
    # the rules of account creation (core.identity.create_user)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"{field}: at least {MIN_PASSWORD_LENGTH} characters",
                       detail={"field": field, "reason": "too short"})


def _other_active_admins(session: Session, user: User) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.admin.value, User.active.is_(True), User.id != user.id)) or 0)


def guard_last_admin(session: Session, user: User, *, op: str) -> None:
    """Refuse (409) to take away the last active administrator (demote or disable)."""
    if user.role == Role.admin.value and user.active and _other_active_admins(session, user) == 0:
        raise Conflict(f"{user.username} is the last active administrator; cannot {op} them",
                       detail={"field": "user_id", "value": user.id, "reason": "last administrator"})


def end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> list[str]:
    """Revoke every live session of the user (but ``keep``); returns the ids revoked."""
    q = select(UserSession.id).where(UserSession.user_id == user_id, UserSession.revoked.is_(False))
    ids = [sid for sid in session.scalars(q).all() if sid != keep]
    if ids:
        session.execute(update(UserSession).where(UserSession.id.in_(ids)).values(revoked=True)
                        .execution_options(synchronize_session=False))
    return ids


def _audit(session: Session, principal: Principal, params: dict[str, object]) -> None:
    audit.append(session, actor=principal.username, role=principal.role.value, action=AuditAction.administration,
                 resource="users", params=params)


def change_role(session: Session, *, user_id: int, role: Role | str, principal: Principal) -> tuple[User, list[str]]:
    """Give the user another role; their sessions end. Returns the user and the sessions ended.

    Raises NotFound (no such user), BadInput (unknown role), Conflict (the last active admin).
    """
    try:
        new = Role(role)
    except ValueError:
        raise BadInput(f"unknown role {role!r}", detail={"field": "role", "allowed": [r.value for r in Role]}) from None
    user = get_account(session, user_id)
    if user.role == new.value:
        return user, []
    if new is not Role.admin:
        guard_last_admin(session, user, op="demote")
    old, user.role = user.role, new.value
    ended = end_sessions(session, user.id)
    _audit(session, principal, {"op": "role", "username": user.username, "from": old, "to": new.value,
                                "sessions_ended": len(ended)})
    session.flush()
    return user, ended


def reset_password(session: Session, *, user_id: int, password: str, principal: Principal) -> tuple[User, list[str]]:
    """Set a new password chosen by the administrator; the user's sessions end and a lockout is
    cleared. Returns the user and the sessions ended. The password is not audited."""
    _check_password(password, "password")
    user = get_account(session, user_id)
    user.password_hash = _hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    ended = end_sessions(session, user.id)
    _audit(session, principal, {"op": "password_reset", "username": user.username, "sessions_ended": len(ended)})
    session.flush()
    return user, ended


def change_own_password(session: Session, *, principal: Principal, current: str, new: str) -> list[str]:
    """The caller changes their own password (the current one is checked); their other sessions
    end, the one making the change stays. Returns the sessions ended."""
    user = get_account(session, principal.user_id)
    try:
        _hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise BadInput("current_password: not your current password",
                       detail={"field": "current_password", "reason": "mismatch"}) from None
    _check_password(new, "new_password")
    if new == current:
        raise BadInput("new_password: the same as the current one", detail={"field": "new_password", "reason": "same"})
    user.password_hash = _hasher.hash(new)
    ended = end_sessions(session, user.id, keep=principal.session_id)
    _audit(session, principal, {"op": "own_password", "username": user.username, "sessions_ended": len(ended)})
    session.flush()
    return ended
