"""One access policy: every API route and every CLI command reads core/policy.py.

The route table and the CLI command tree are walked; a route or a command that does not name an action
of the table fails here, so the API and the CLI cannot drift apart (they read the same entry).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterator
from typing import Any

import typer
from fastapi import FastAPI
from fastapi.routing import APIRoute

from precinct.app import iter_routes
from precinct.cli import app as cli_app
from precinct.core.access import AccessRule, PublicRule
from precinct.core.policy import OPEN_COMMANDS, POLICY, rule_for

from .test_access_matrix import access_rule


def _leaf_commands(group: Any, prefix: list[str]) -> Iterator[tuple[str, Any]]:
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from _leaf_commands(cmd, [*prefix, name])
        else:
            yield " ".join([*prefix, name]), cmd


def _policy_literals(fn: Any) -> set[str]:
    """The policy actions named as string literals in a command's body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    return {n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in POLICY}


def cli_actions() -> dict[str, set[str]]:
    root = typer.main.get_command(cli_app)
    return {path: _policy_literals(cmd.callback) for path, cmd in _leaf_commands(root, [])}


def _takes_user(cmd: Any) -> bool:
    return any("--as" in (p.opts or []) for p in cmd.params)


def route_actions(app: FastAPI) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for path, methods, route in iter_routes(app):
        if not isinstance(route, APIRoute):
            continue
        rule = access_rule(route)
        assert isinstance(rule, AccessRule), path
        if isinstance(rule, PublicRule):
            continue
        for m in methods:
            out[f"{m} {path}"] = rule.action
    return out


def test_every_route_names_a_policy_action(app: FastAPI) -> None:
    actions = route_actions(app)
    missing = sorted(k for k, v in actions.items() if v is None)
    assert not missing, f"routes whose access rule is not read from core/policy.py: {missing}"
    for path, methods, route in iter_routes(app):
        if isinstance(route, APIRoute):
            rule = access_rule(route)
            if rule is not None and rule.action:
                assert rule.roles == rule_for(rule.action).roles, (path, methods)
                assert rule.personal_data == rule_for(rule.action).personal, (path, rule.action)


def test_every_cli_command_names_a_policy_action_or_is_open() -> None:
    root = typer.main.get_command(cli_app)
    wrong = []
    for path, cmd in _leaf_commands(root, []):
        named = _policy_literals(cmd.callback)
        if path in OPEN_COMMANDS:
            continue
        if not _takes_user(cmd):
            wrong.append(f"{path}: takes no --as USER and is not listed in OPEN_COMMANDS")
        elif not named:
            wrong.append(f"{path}: names no action of core/policy.py (cli_principal/cli_grant with an action)")
    assert not wrong, "\n".join(wrong)


def test_open_commands_exist() -> None:
    assert set(OPEN_COMMANDS) <= set(cli_actions()), set(OPEN_COMMANDS) - set(cli_actions())


def test_every_policy_action_is_used(app: FastAPI) -> None:
    used = {a for a in route_actions(app).values() if a} | set().union(*cli_actions().values())
    # actions checked inside a service (for example issuing orders from a checkpoint plan)
    used |= {"patrol.checkpoints.issue"}
    unused = sorted(set(POLICY) - used)
    assert not unused, f"policy entries no route or command uses: {unused}"


def test_the_walk_can_fail() -> None:
    """The detector itself works: a command body without an action literal names none."""
    def bare(as_user: str | None = None) -> None:
        return None

    assert _policy_literals(bare) == set()
