"""Discovery of the domain packages, so adding a domain never edits a shared registry.

A domain package ``precinct.<name>`` may have ``models.py`` (SQLAlchemy models), ``views.py``
(a FastAPI ``router``) and ``cli.py`` (a Typer ``app`` mounted as ``precinct <name>`` unless it sets
``CLI_NAME``). A module that exists is imported and its errors propagate.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import precinct

_ROOT = Path(precinct.__file__).resolve().parent
NOT_DOMAINS = {"core", "migrations", "web"}


def domain_names() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(_ROOT)])
        if m.ispkg and m.name not in NOT_DOMAINS
    )


def domain_modules(kind: str) -> list[ModuleType]:
    """Import ``precinct.<domain>.<kind>`` for every domain that has that file."""
    found = []
    for name in domain_names():
        if (_ROOT / name / f"{kind}.py").exists():
            found.append(importlib.import_module(f"precinct.{name}.{kind}"))
    return found


def import_models() -> None:
    importlib.import_module("precinct.core.models")
    domain_modules("models")
