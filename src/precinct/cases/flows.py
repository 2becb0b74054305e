"""Bulk flows of the cases domain: open cases from the design brief's cases CSV.

``cases.csv`` (``case_id, lat, lon, start, end[, radius_km]``, as ``precinct sim generate`` writes
it for the planted stories) becomes one open case per row, its ``case_id`` kept as the force's own
reference (``ref``) and its place and time window as the case's scene. The demo opens its planted
stories' cases this way, so the analyst screens work out of the box.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from precinct.cases import service
from precinct.cases.models import Case
from precinct.core.timeutil import parse_iso_field
from precinct.errors import BadInput

REQUIRED = ("case_id", "lat", "lon", "start", "end")
MAX_ROWS = 10_000


def _rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadInput(f"line 1: missing column(s) {', '.join(missing)}", detail={"line": 1, "field": missing[0]})
    rows: list[dict[str, str]] = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise BadInput(f"more than {MAX_ROWS} cases in one file", detail={"line": MAX_ROWS + 2})
        rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
    return rows


def _float(row: dict[str, str], field: str, line: int, default: float | None = None) -> float:
    raw = row.get(field, "")
    if not raw and default is not None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise BadInput(f"line {line}: {field}: not a number: {raw!r}", detail={"line": line, "field": field}) from None


def open_cases_from_csv(session: Session, *, text: str, type: str, lead: str, by: str | None = None,
                        members: Sequence[str] = (), teams: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Open one case per row of a cases CSV (a row whose ``case_id`` is already a case's ``ref`` is skipped).

    Parameters
    ----------
    text
        The CSV (``case_id, lat, lon, start, end[, radius_km]``; times ISO 8601 with an offset).
    type, lead, by, members, teams
        As :func:`precinct.cases.service.open_case`, for every case opened.

    Returns
    -------
    list of dict
        ``{"line", "ref", "id", "opened"}`` per row, ``opened`` False for one already there.

    Raises
    ------
    BadInput
        Naming the line and field of the first bad row; nothing is opened then.
    """
    out = []
    known: dict[str, str] = {ref: cid for ref, cid in
                             session.execute(select(Case.ref, Case.id).where(Case.ref.is_not(None))) if ref}
    for i, row in enumerate(_rows(text), start=2):
        ref = row["case_id"]
        if not ref:
            raise BadInput(f"line {i}: case_id is empty", detail={"line": i, "field": "case_id"})
        lat, lon = _float(row, "lat", i), _float(row, "lon", i)
        radius = _float(row, "radius_km", i, default=1.0)
        start = parse_iso_field(row["start"], f"line {i}: start")
        end = parse_iso_field(row["end"], f"line {i}: end")
        if ref in known:
            out.append({"line": i, "ref": ref, "id": known[ref], "opened": False})
            continue
        try:
            case = service.open_case(session, title=ref, type=type, lead=lead, members=members, teams=teams,
                                     ref=ref, by=by)
            service.add_scene(session, case_id=case["id"], lat=lat, lon=lon, start=start, end=end,
                              radius_km=radius, label=ref, by=by or lead)
        except BadInput as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            raise BadInput(f"line {i}: {exc.message}", detail={**detail, "line": i}) from None
        known[ref] = case["id"]
        out.append({"line": i, "ref": ref, "id": case["id"], "opened": True})
    return out


def open_cases_from_file(session: Session, *, path: Path, **kwargs: Any) -> list[dict[str, Any]]:
    """:func:`open_cases_from_csv` on a file (UTF-8, a BOM allowed)."""
    if not path.exists():
        raise BadInput(f"no such file: {path}", detail={"field": "path", "file": str(path)})
    return open_cases_from_csv(session, text=path.read_text(encoding="utf-8-sig"), **kwargs)

