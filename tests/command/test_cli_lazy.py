"""The command domains' CLIs import their heavy modules only inside commands (`precinct --help` stays fast)."""

from __future__ import annotations

import subprocess
import sys

from precinct.command import cli as command_cli
from precinct.command import eido


def test_cli_modules_import_no_database_or_web_stack() -> None:
    code = (
        "import sys, precinct.command.cli;"
        "print(sorted(m for m in ('sqlalchemy', 'fastapi', 'numpy', 'jsonschema', 'argon2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_default_agency_is_the_eido_default() -> None:
    assert command_cli.DEFAULT_AGENCY == eido.DEFAULT_AGENCY
