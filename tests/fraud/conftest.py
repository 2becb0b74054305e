"""Fixtures for the anti-fraud tests: an analyst, an open fraud case, and report CSV writers."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from conftest import make_user
from precinct.core.db import Database
from precinct.core.identity import Principal, principal_for

COLUMNS = ("report_id", "ts", "type", "loss", "accounts", "phones", "urls")


def write_reports(path: Path, rows: Iterable[dict[str, Any]], columns: Iterable[str] = COLUMNS) -> Path:
    cols = list(columns)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: (";".join(r[c]) if isinstance(r.get(c), list | tuple) else r.get(c, "")) for c in cols})
    return path


@pytest.fixture
def analyst(db: Database) -> str:
    return make_user(db, "analyst")


@pytest.fixture
def principal(db: Database, analyst: str) -> Principal:
    with db.sessionmaker() as s:
        return principal_for(s, analyst)


@pytest.fixture
def fraud_case(db: Database, analyst: str) -> str:
    from precinct.cases import service as cases

    with db.session() as s:
        return str(cases.open_case(s, title="电信诈骗专案", type="fraud", lead=analyst)["id"])
