"""Access control: every API route declares who may call it; personal-data reads are purpose-bound.

Routes depend on one of three rules, which also make the access policy inspectable (the route-table
test walks them):

``allow(*roles)``
    an authenticated caller whose role is listed; returns the :class:`Principal`.
``personal_data(*roles, resource=...)``
    as ``allow``, and the request must carry a case id (``X-Case-Id``) and a purpose code
    (``X-Purpose``) that the role may use; returns an :class:`AccessGrant` whose ``record`` writes
    the audit record before results leave. Refusals are audited too. The case must exist, be open
    and have the caller on it, for a purpose its type allows: the ``cases`` domain registers that
    check (:func:`set_case_checker`); with none registered every read is refused.
``public``
    no authentication (login, health).

CLI commands get the same checks through :func:`cli_grant` and :func:`cli_principal`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from precinct.config import Settings
from precinct.core import audit
from precinct.core.db import Database
from precinct.core.identity import Principal, principal_for, resolve_token
from precinct.core.policy import resource_of, rule_for
from precinct.core.roles import PURPOSE_ROLES, AuditAction, Purpose, Role
from precinct.errors import Forbidden, NotAuthenticated

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
_CASE_ID = re.compile(r"^[^\x00-\x1f\x7f]{2,128}$")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _route_name(request: Request) -> str:
    return f"{request.method} {request.url.path}"


@dataclass
class AccessGrant:
    """Permission for one purpose-bound read; ``record`` must run before results are returned."""

    principal: Principal
    case_id: str
    purpose: Purpose
    resource: str
    db: Database
    recorded: bool = field(default=False, init=False)

    def record(
        self, *, result_count: int | None, params: dict[str, Any] | None = None,
        action: AuditAction = AuditAction.consultation, session: Session | None = None,
    ) -> None:
        """Write the audit record (in ``session``'s transaction if given, else its own).

        Raises ``AuditFailure`` when it cannot be written, so the results never leave unaudited.
        """
        kwargs = dict(actor=self.principal.username, role=self.principal.role.value, action=action,
                      resource=self.resource, params=params, result_count=result_count,
                      case_id=self.case_id, purpose=self.purpose.value, outcome="ok")
        if session is not None:
            audit.append(session, **kwargs)  # type: ignore[arg-type]
        else:
            with self.db.session() as s:
                audit.append(s, **kwargs)  # type: ignore[arg-type]
        self.recorded = True


def refuse(db: Database, *, actor: str, role: str, resource: str, reason: str,
           case_id: str | None = None, purpose: str | None = None,
           params: dict[str, Any] | None = None) -> Forbidden:
    """Audit a refusal (committed on its own) and return the error to raise."""
    with db.session() as s:
        audit.append(s, actor=actor, role=role, action=AuditAction.refusal, resource=resource,
                     params={**(params or {}), "reason": reason}, case_id=case_id,
                     purpose=purpose, outcome="refused")
    return Forbidden(reason, detail={"resource": resource})


def check_purpose(
    db: Database, principal: Principal, *, resource: str, case_id: str | None, purpose: str | None,
    purposes: frozenset[Purpose] = frozenset(),
) -> tuple[str, Purpose]:
    """Validate case id and purpose for a personal-data read; refusals are audited."""
    actor, role = principal.username, principal.role.value
    if not case_id or not purpose:
        missing = [n for n, v in (("case id", case_id), ("purpose", purpose)) if not v]
        raise refuse(db, actor=actor, role=role, resource=resource, case_id=case_id, purpose=purpose,
                     reason=f"personal data needs a case id and a purpose; missing: {', '.join(missing)}")
    if not _CASE_ID.match(case_id):
        raise refuse(db, actor=actor, role=role, resource=resource, case_id=case_id[:128], purpose=purpose,
                     reason="case id must be 2-128 printable characters")
    try:
        purpose_code = Purpose(purpose)
    except ValueError:
        raise refuse(db, actor=actor, role=role, resource=resource, case_id=case_id, purpose=purpose[:64],
                     reason=f"unknown purpose {purpose!r}; one of {', '.join(p.value for p in Purpose)}") from None
    if principal.role not in PURPOSE_ROLES[purpose_code]:
        raise refuse(db, actor=actor, role=role, resource=resource, case_id=case_id, purpose=purpose,
                     reason=f"role {role} may not read personal data for purpose {purpose}")
    if purposes and purpose_code not in purposes:
        raise refuse(db, actor=actor, role=role, resource=resource, case_id=case_id, purpose=purpose,
                     reason=f"purpose {purpose} does not apply here; one of "
                            f"{', '.join(sorted(p.value for p in purposes))}")
    reason = (_CASE_HOOKS.checker(db, principal, case_id, purpose_code) if _CASE_HOOKS.checker is not None
              else "no case registry is loaded, so no case can be checked")
    if reason:
        raise refuse(db, actor=actor, role=role, resource=resource, case_id=case_id, purpose=purpose,
                     reason=reason)
    return case_id, purpose_code


# --- the case registry's hooks (core imports no domain; the cases domain registers itself) --------

CaseChecker = Callable[[Database, Principal, str, Purpose], str | None]
CaseClosedHook = Callable[[Session, str, str], None]
CaseHoldings = Callable[[Session, str], int]


@dataclass
class _CaseHooks:
    checker: CaseChecker | None = None
    on_close: list[CaseClosedHook] = field(default_factory=list)
    holdings: dict[str, CaseHoldings] = field(default_factory=dict)


_CASE_HOOKS = _CaseHooks()


def set_case_checker(fn: CaseChecker | None) -> None:
    """Register the case check every personal-data read passes (the ``cases`` domain does, on import).

    ``fn(db, principal, case_id, purpose)`` returns None to allow the read, or the reason to refuse it
    (the refusal is audited with that reason). With no checker registered every read is refused.
    """
    _CASE_HOOKS.checker = fn


def on_case_closed(fn: CaseClosedHook) -> None:
    """Register ``fn(session, case_id, actor)``, run in the closing transaction when a case closes.

    Domains that keep data for a case (plate reads pinned to it) release it here; registering the
    same function twice runs it once.
    """
    if fn not in _CASE_HOOKS.on_close:
        _CASE_HOOKS.on_close.append(fn)


def case_closed(session: Session, *, case_id: str, actor: str) -> None:
    """Run the close hooks (called by the cases domain inside the transaction that closes the case)."""
    for fn in list(_CASE_HOOKS.on_close):
        fn(session, case_id, actor)


class AccessRule:
    """Base of the route access rules (inspected by the route-table test)."""

    roles: frozenset[Role] = frozenset()
    action: str | None = None
    authenticated = True
    personal_data = False


class PublicRule(AccessRule):
    authenticated = False

    def __call__(self) -> None:
        return None


public: Any = Depends(PublicRule())


class RoleRule(AccessRule):
    def __init__(self, roles: Iterable[Role], resource: str | None = None, action: str | None = None,
                 purposes: frozenset[Purpose] = frozenset()) -> None:
        self.roles = frozenset(roles)
        self.resource = resource
        self.action = action
        self.purposes = purposes

    def authenticate(self, request: Request, token: str | None) -> Principal:
        if not token:
            raise NotAuthenticated("log in first: this route needs a bearer token")
        principal = resolve_token(get_db(request), get_settings_dep(request), token)
        if principal.role not in self.roles:
            raise refuse(get_db(request), actor=principal.username, role=principal.role.value,
                         resource=self.resource or _route_name(request),
                         reason=f"role {principal.role.value} may not use this route")
        return principal

    def __call__(self, request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
        return self.authenticate(request, token)


class PersonalDataRule(RoleRule):
    personal_data = True

    def __init__(self, roles: Iterable[Role], resource: str, action: str | None = None,
                 purposes: frozenset[Purpose] = frozenset()) -> None:
        super().__init__(roles, resource, action, purposes)
        self.resource_name = resource

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        token: Annotated[str | None, Depends(oauth2_scheme)],
        x_case_id: Annotated[str | None, Header(description="case this personal-data read serves")] = None,
        x_purpose: Annotated[str | None, Header(description="purpose code, e.g. investigation")] = None,
    ) -> AccessGrant:
        principal = self.authenticate(request, token)
        db = get_db(request)
        case_id, purpose = check_purpose(db, principal, resource=self.resource_name,
                                         case_id=x_case_id, purpose=x_purpose, purposes=self.purposes)
        return AccessGrant(principal=principal, case_id=case_id, purpose=purpose,
                           resource=self.resource_name, db=db)


def _is_action(args: tuple[object, ...]) -> bool:
    return len(args) == 1 and isinstance(args[0], str) and not isinstance(args[0], Role)


def allow(*roles: Role | str, resource: str | None = None) -> Any:
    """Dependency: an authenticated caller allowed to do an action of :mod:`precinct.core.policy`.

    ``allow("calls.create")`` reads the roles from the policy table (the one way for new code).
    """
    if _is_action(roles):
        action = str(roles[0])
        rule = rule_for(action)
        if rule.personal:
            raise ValueError(f"{action} reads personal data: use personal_data({action!r})")
        return Depends(RoleRule(rule.roles, resource or resource_of(action), action))
    if not roles:
        raise ValueError("allow() needs an action")
    return Depends(RoleRule([Role(r) for r in roles], resource))


def personal_data(*roles: Role | str, resource: str | None = None) -> Any:
    """Dependency: a purpose-bound personal-data read (returns AccessGrant).

    ``personal_data("anpr.trajectory")`` reads roles, purposes and resource from the policy table.
    """
    if _is_action(roles):
        action = str(roles[0])
        rule = rule_for(action)
        if not rule.personal:
            raise ValueError(f"{action} is not a personal-data action in the policy table")
        return Depends(PersonalDataRule(rule.roles, resource or resource_of(action), action, rule.purposes))
    if not roles or resource is None:
        raise ValueError("personal_data() needs an action")
    return Depends(PersonalDataRule([Role(r) for r in roles], resource))


# --- CLI -------------------------------------------------------------------------------------

def _cli_rule(roles: Iterable[Role] | str, resource: str | None) -> tuple[frozenset[Role], str, frozenset[Purpose]]:
    if isinstance(roles, str) and not isinstance(roles, Role):
        rule = rule_for(roles)
        return rule.roles, resource or resource_of(roles), rule.purposes
    if resource is None:
        raise ValueError("cli_principal() needs an action")
    return frozenset(Role(r) for r in roles), resource, frozenset()


def cli_principal(db: Database, username: str | None, roles: Iterable[Role] | str, *,
                  resource: str | None = None) -> Principal:
    """The named user a CLI command acts as, checked against the same policy entry as the API.

    ``cli_principal(db, as_user, "calls.import")``.
    """
    allowed, resource_name, _ = _cli_rule(roles, resource)
    with db.sessionmaker() as s:
        principal = principal_for(s, username)
    if principal.role not in allowed:
        raise refuse(db, actor=principal.username, role=principal.role.value, resource=resource_name,
                     reason=f"role {principal.role.value} may not use this command")
    return principal


def cli_grant(db: Database, username: str | None, roles: Iterable[Role] | str, *, resource: str | None = None,
              case_id: str | None, purpose: str | None) -> AccessGrant:
    """A purpose-bound grant for a CLI command that reads personal data (same policy entry as the API)."""
    allowed, resource_name, purposes = _cli_rule(roles, resource)
    principal = cli_principal(db, username, allowed, resource=resource_name)
    case, purpose_code = check_purpose(db, principal, resource=resource_name, case_id=case_id,
                                       purpose=purpose, purposes=purposes)
    return AccessGrant(principal=principal, case_id=case, purpose=purpose_code, resource=resource_name, db=db)


def register_case_holdings(name: str, fn: CaseHoldings) -> None:
    """Register ``fn(session, case_id) -> count`` of data ``name`` kept for a case (e.g. pinned reads).

    The cases domain's completeness check asks it: a closed case must hold nothing any more.
    """
    _CASE_HOOKS.holdings[name] = fn


def case_holdings(session: Session, case_id: str) -> dict[str, int]:
    """What the registered domains still keep for ``case_id``, by name (only non-zero counts)."""
    out = {name: fn(session, case_id) for name, fn in _CASE_HOOKS.holdings.items()}
    return {k: v for k, v in out.items() if v}
