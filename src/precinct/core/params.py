"""Shared request parameters of the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# A database row id in a URL: SQLite and PostgreSQL integers are 64-bit, so a larger number is a bad
# request (422 naming the parameter), not an OverflowError deep in the driver (found by schemathesis).
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="row id")]
