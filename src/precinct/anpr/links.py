"""Person–vehicle links: parsing, validation and the idempotent, audited store.

Format (DESIGN.md, ``links.csv``): ``person_id``, ``plate``, ``ts`` required; ``source`` and
``link_id`` optional. The same rows arrive as a CSV file (``precinct anpr links import``), a CSV
body or a JSON batch (``POST /api/v1/anpr/links``: ``{"links": [{...}, ...]}`` or a bare list).

A link with a ``link_id`` is stored once per ``link_id``; a link without one is stored once per
(person_id, normalised plate, ts), so a sender may retry a batch safely. Rows that fail validation
are rejected with their line (CSV) or item (JSON) number, field and reason; the rest are stored in
one warehouse transaction, with one collection audit record (resource ``anpr.links``) written and
committed before the warehouse commits, so the audit log never under-reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from precinct.anpr import parse, parse_validate, store
from precinct.anpr.normalize import MAX_PLATE_LENGTH, normalize_array
from precinct.core import audit
from precinct.core.db import Database
from precinct.core.roles import AuditAction
from precinct.core.warehouse import Warehouse
from precinct.errors import BadInput

LINK_COLUMNS = ("link_id", "person_id", "plate", "ts", "source")
LINK_REQUIRED = ("person_id", "plate", "ts")
MAX_FIELD_LENGTH = 128

LINKS_SCHEMA = pa.schema(
    [
        ("link_id", pa.string()),
        ("person_id", pa.string()),
        ("plate", pa.string()),
        ("ts_us", pa.int64()),
        ("source", pa.string()),
        ("line", pa.int64()),
    ]
)


def check_header(names: list[str], *, where: str = "line 1") -> dict[str, str]:
    """Map a links source's column names to ours; raise BadInput naming what is missing.

    Parameters
    ----------
    names : list of str
        The column names as found (header line or JSON keys).
    where : str
        Where the names were found, for the error message.

    Returns
    -------
    dict
        Source name -> canonical column name, for the known columns.
    """
    mapping: dict[str, str] = {}
    for raw in names:
        key = str(raw).strip().lstrip("\ufeff").lower()
        if key in LINK_COLUMNS:
            if key in mapping.values():
                raise BadInput(
                    f"wrong columns: {key!r} appears twice ({where})",
                    detail={"line": 1, "field": key, "found": names},
                )
            mapping[str(raw)] = key
    missing = [c for c in LINK_REQUIRED if c not in mapping.values()]
    if missing:
        raise BadInput(
            f"wrong columns: missing {', '.join(missing)} ({where}); expected {', '.join(LINK_COLUMNS)}",
            detail={"line": 1, "field": missing[0], "missing": missing, "found": names},
        )
    return mapping


def parse_csv(source: Path | bytes) -> list[parse.RawChunk]:
    """All rows of a links CSV file or body, with exact line numbers (the header is line 1).

    Parameters
    ----------
    source : Path or bytes
        A file path or the CSV bytes.

    Returns
    -------
    list of RawChunk
        Columns as strings plus each row's line; malformed rows arrive as rejects.
    """
    if isinstance(source, Path) and not source.exists():
        raise BadInput(f"no such file: {source}", detail={"file": str(source), "field": "path"})
    return list(parse.iter_csv_slow(source, header=check_header))


def parse_json(data: bytes) -> list[parse.RawChunk]:
    """A JSON links batch: ``{"links": [...]}`` or a bare list; items numbered from 1.

    Parameters
    ----------
    data : bytes
        The request body.

    Returns
    -------
    list of RawChunk
        One chunk; items of the wrong shape or JSON type arrive as rejects.
    """
    return parse.parse_json(data, key="links", columns=LINK_COLUMNS, string_fields=LINK_COLUMNS)


def _bounded(
    arr: pa.Array, name: str, flag: Any, *, required: bool, limit: int = MAX_FIELD_LENGTH
) -> pa.Array:
    if required:
        flag(parse_validate._mask(pc.is_null(arr)), name, f"{name} is required")
    flag(
        parse_validate._mask(pc.fill_null(pc.greater(pc.utf8_length(arr), limit), False)),
        name,
        f"{name} longer than {limit} characters",
    )
    return arr


def validate(chunk: parse.RawChunk) -> tuple[pa.Table, list[parse.Reject]]:
    """The chunk's valid links (:data:`LINKS_SCHEMA`) and a Reject for every other row.

    Parameters
    ----------
    chunk : RawChunk
        Columns from :func:`parse_csv` or :func:`parse_json`.

    Returns
    -------
    table : pyarrow.Table
        Valid rows: plate normalised, ``ts`` as microseconds since the epoch (UTC).
    rejects : list of Reject
        One per refused row (line/item, field, reason), sorted by line.
    """
    n = chunk.num_rows
    bad = np.zeros(n, dtype=bool)
    found: list[tuple[int, str, str]] = []

    def flag(mask: np.ndarray, fld: str, reason: str) -> None:
        new = mask & ~bad
        if new.any():
            found.extend((int(i), fld, reason) for i in np.flatnonzero(new))
            bad[new] = True

    nulls = pa.nulls(n, pa.string())
    cols = chunk.columns
    person = _bounded(parse_validate._as_string(cols.get("person_id", nulls)), "person_id", flag, required=True)
    plate_raw = parse_validate._as_string(cols.get("plate", nulls))
    flag(parse_validate._mask(pc.is_null(plate_raw)), "plate", "empty plate")
    plate = normalize_array(plate_raw)
    lens = pc.utf8_length(plate)
    flag(
        parse_validate._mask(pc.fill_null(pc.equal(lens, 0), True)),
        "plate",
        "plate has no letters or digits after normalisation",
    )
    flag(
        parse_validate._mask(pc.fill_null(pc.greater(lens, MAX_PLATE_LENGTH), False)),
        "plate",
        f"plate longer than {MAX_PLATE_LENGTH} characters",
    )
    ts_in = cols.get("ts", nulls)
    ts, ts_bad = parse_validate._to_ts(ts_in if not pa.types.is_null(ts_in.type) else nulls)
    flag(parse_validate._mask(pc.is_null(ts)) & ~ts_bad, "ts", "ts is required")
    flag(ts_bad, "ts", "ts is not an ISO 8601 time with an offset (e.g. 2026-05-01T08:30:00+08:00)")
    source = _bounded(parse_validate._as_string(cols.get("source", nulls)), "source", flag, required=False)
    link_id = _bounded(parse_validate._as_string(cols.get("link_id", nulls)), "link_id", flag, required=False)
    table = pa.table(
        {
            "link_id": link_id,
            "person_id": person,
            "plate": plate,
            "ts_us": ts.cast(pa.int64()),
            "source": source,
            "line": pa.array(chunk.lines, type=pa.int64()),
        },
        schema=LINKS_SCHEMA,
    )
    if bad.any():
        table = table.filter(pa.array(~bad))
    lines = chunk.lines
    rejects = list(chunk.rejects) + [parse.Reject(int(lines[i]), f, r) for i, f, r in found]
    rejects.sort(key=lambda r: r.line)
    return table, rejects


_FRESH_LINKS = """
WITH firsts AS (
    SELECT * FROM links_in
    QUALIFY row_number() OVER (
        PARTITION BY CASE WHEN link_id IS NOT NULL THEN 'i:' || link_id
                     ELSE 'n:' || person_id || chr(31) || plate || chr(31) || CAST(ts_us AS VARCHAR) END
        ORDER BY line) = 1
)
SELECT f.* FROM firsts f
WHERE NOT EXISTS (SELECT 1 FROM anpr_links l WHERE f.link_id IS NOT NULL AND l.link_id = f.link_id)
  AND NOT EXISTS (
    SELECT 1 FROM anpr_links l
    WHERE f.link_id IS NULL AND l.link_id IS NULL AND l.ts_us BETWEEN {lo} AND {hi}
      AND l.ts_us = f.ts_us AND l.person_id = f.person_id AND l.plate = f.plate)
ORDER BY person_id, ts_us, line
"""


class LinksResult(parse.BatchResult):
    """What one links batch did: stored, duplicate and rejected counts, and the reject details."""


def ingest(
    *,
    db: Database,
    wh: Warehouse,
    chunks: list[parse.RawChunk],
    actor: str,
    role: str,
    origin: str,
) -> LinksResult:
    """Validate, deduplicate and store person–vehicle links; one audited, all-or-nothing batch.

    Parameters
    ----------
    db : Database
        Operations database (the audit log).
    wh : Warehouse
        The warehouse holding ``anpr_links``.
    chunks : list of RawChunk
        From :func:`parse_csv` or :func:`parse_json`.
    actor, role : str
        Who sends the batch (named in the collection audit record).
    origin : str
        Where it came from (file path or ``api:<content type>``).

    Returns
    -------
    LinksResult
        Counts and reject details; returned only once the batch is durable.
    """
    store.ensure_schema(wh)
    tables: list[pa.Table] = []
    rejects = parse.Rejects()
    for chunk in chunks:
        table, rej = validate(chunk)
        rejects.add(rej)
        tables.append(table)
    table = pa.concat_tables(tables) if tables else LINKS_SCHEMA.empty_table()
    with wh.transaction() as cur:
        batch = store.next_counter(cur, "batch")
        stored = 0
        if table.num_rows:
            ts = table.column("ts_us")
            lo, hi = int(pc.min(ts).as_py()), int(pc.max(ts).as_py())
            fresh = store.query_arrow(cur, table, "links_in", _FRESH_LINKS.format(lo=lo, hi=hi))
            rows = pa.table(  # the column order of anpr_links
                {
                    "person_id": fresh.column("person_id"),
                    "plate": fresh.column("plate"),
                    "ts_us": fresh.column("ts_us"),
                    "source": fresh.column("source"),
                    "batch": pa.array(np.full(fresh.num_rows, batch, dtype=np.int64)),
                    "link_id": fresh.column("link_id"),
                }
            )
            cur.from_arrow(rows).insert_into("anpr_links")
            stored = rows.num_rows
        result = LinksResult(batch, stored, table.num_rows - stored, rejects.count, rejects.details)
        with db.session() as s:
            audit.append(
                s,
                actor=actor,
                role=role,
                action=AuditAction.collection,
                resource="anpr.links",
                params={
                    "batch": batch,
                    "origin": origin,
                    "stored": result.stored,
                    "duplicates": result.duplicates,
                    "rejected": result.rejected,
                },
                result_count=result.stored,
            )
        # leaving the block commits the warehouse transaction (after the audit record)
    return result
