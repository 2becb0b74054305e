"""The shared vocabulary of the read parsers: columns, the canonical schema, raw chunks and rejects.

The lowest module of the readers: :mod:`precinct.anpr.parse` (CSV, Parquet, Arrow IPC),
:mod:`precinct.anpr.parse_json` and :mod:`precinct.anpr.parse_validate` build on it; everything is
importable from :mod:`precinct.anpr.parse`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from precinct.errors import BadInput

COLUMNS = ("plate", "ts", "lat", "lon", "camera_id", "read_id", "kind", "confidence")
REQUIRED = ("plate", "ts")
KINDS = ("plate", "tag")
MAX_ID_LENGTH = 128
MAX_REJECT_DETAILS = 1000
DEFAULT_CHUNK_ROWS = 1_000_000

CANONICAL = pa.schema(
    [
        ("plate", pa.string()),
        ("ts_us", pa.int64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("camera_id", pa.string()),
        ("read_id", pa.string()),
        ("kind", pa.string()),
        ("confidence", pa.float32()),
        ("line", pa.int64()),
    ]
)
TS_TYPE = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Reject:
    """One refused row: where (``line`` of a CSV file, 1-based ``item`` of a JSON batch, ``row``
    of a Parquet file or Arrow stream), which field and why."""

    line: int
    field: str
    reason: str

    def as_dict(self, unit: str = "line") -> dict[str, Any]:
        return {unit: self.line, "field": self.field, "reason": self.reason}


@dataclass
class BatchResult:
    """What one ingest batch did: stored, duplicate and rejected counts, and the reject details."""

    batch: int
    stored: int
    duplicates: int
    rejected: int
    rejects: list[Reject]

    def as_dict(self, unit: str = "line") -> dict[str, Any]:
        """The result as JSON-ready data, rejects located by ``unit`` (line or item)."""
        return {
            "batch": self.batch,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects": [r.as_dict(unit) for r in self.rejects],
        }


@dataclass
class RawChunk:
    columns: dict[str, pa.Array]
    lines: np.ndarray  # int64 source location of each row
    rejects: list[Reject] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.lines)


@dataclass
class Rejects:
    """Rejected rows: a count and the first :data:`MAX_REJECT_DETAILS` details."""

    count: int = 0
    details: list[Reject] = field(default_factory=list)

    def add(self, rejects: Iterable[Reject]) -> None:
        for r in rejects:
            self.count += 1
            if len(self.details) < MAX_REJECT_DETAILS:
                self.details.append(r)


# --- column headers ----------------------------------------------------------------------------


def check_header(names: list[str], *, where: str = "line 1") -> dict[str, str]:
    """Map the source's column names to ours; raise BadInput naming what is wrong."""
    mapping: dict[str, str] = {}
    for raw in names:
        key = str(raw).strip().lstrip("\ufeff").lower()
        if key in COLUMNS:
            if key in mapping.values():
                raise BadInput(
                    f"wrong columns: {key!r} appears twice ({where})",
                    detail={"line": 1, "field": key, "found": names},
                )
            mapping[str(raw)] = key
    present = set(mapping.values())
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise BadInput(
            f"wrong columns: missing {', '.join(missing)} ({where}); expected {', '.join(COLUMNS)}",
            detail={"line": 1, "field": missing[0], "missing": missing, "found": names},
        )
    if ("lat" in present) != ("lon" in present):
        raise BadInput(
            f"wrong columns: lat and lon go together ({where})",
            detail={"line": 1, "field": "lat" if "lon" in present else "lon", "found": names},
        )
    if "lat" not in present and "camera_id" not in present:
        raise BadInput(
            f"wrong columns: need lat and lon, or camera_id of a known camera ({where})",
            detail={"line": 1, "field": "lat", "found": names},
        )
    return mapping


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
