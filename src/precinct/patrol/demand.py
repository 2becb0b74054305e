"""Reading demand, candidate and cost-matrix files for deployment planning.

Demand CSV: ``lat, lon`` and optional ``weight``; or the calls format of the design brief
(``call_id, ts, lat, lon, type, priority, description``), where each call is weighted by its
five-colour priority (red 5 ... green 1, or numeric 1 = most urgent ... 5).
Cost matrix CSV: demand rows x candidate columns of travel seconds; an optional first column of
weights, named ``weight`` in a header row (or forced with ``weights_first``). Empty cells and
``inf`` mean unreachable.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from precinct.errors import BadInput, NotFound

PRIORITY_WEIGHT = {"red": 5.0, "orange": 4.0, "yellow": 3.0, "blue": 2.0, "green": 1.0,
                   "1": 5.0, "2": 4.0, "3": 3.0, "4": 2.0, "5": 1.0}


@dataclass
class Points:
    """Weighted points: ``lat``, ``lon``, ``weight`` arrays and optional ids / timestamps."""

    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray
    ids: list[str]
    ts: list[str] | None = None
    kind: list[str] | None = None

    def __len__(self) -> int:
        return int(self.lat.size)

    @property
    def latlon(self) -> np.ndarray:
        return np.column_stack([self.lat, self.lon])


def _open(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise NotFound(f"no such file: {path}", detail={"path": str(path)})
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise BadInput(f"{path} is empty", detail={"path": str(path)})
        return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in reader]


def _float(row: dict[str, str], key: str, line: int, lo: float, hi: float) -> float:
    try:
        v = float(row[key])
    except (KeyError, ValueError):
        raise BadInput(f"line {line}: {key} must be a number", detail={"line": line, "field": key}) from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise BadInput(f"line {line}: {key} out of range", detail={"line": line, "field": key, "value": v})
    return v


def points_from_rows(rows: list[dict[str, str]], *, source: str = "input") -> Points:
    """Parse demand rows (see module docstring); ``line`` numbers in errors count the header."""
    if not rows:
        raise BadInput(f"{source} has no rows", detail={"source": source})
    lat, lon, w, ids, ts, kinds = [], [], [], [], [], []
    for k, row in enumerate(rows):
        line = k + 2
        lat.append(_float(row, "lat", line, -90, 90))
        lon.append(_float(row, "lon", line, -180, 180))
        if row.get("weight"):
            w.append(_float(row, "weight", line, 0, 1e12))
        elif row.get("priority"):
            pr = row["priority"].lower()
            if pr not in PRIORITY_WEIGHT:
                raise BadInput(f"line {line}: priority must be red, orange, yellow, blue, green or 1-5",
                               detail={"line": line, "field": "priority", "value": row["priority"]})
            w.append(PRIORITY_WEIGHT[pr])
        else:
            w.append(1.0)
        ids.append(row.get("call_id") or row.get("id") or str(k))
        ts.append(row.get("ts", ""))
        kinds.append(row.get("type") or row.get("kind") or "")
    return Points(np.asarray(lat), np.asarray(lon), np.asarray(w), ids,
                  ts if any(ts) else None, kinds if any(kinds) else None)


def read_points(path: str | Path) -> Points:
    """Read a demand / candidate / posts CSV."""
    p = Path(path)
    return points_from_rows(_open(p), source=str(p))


def read_cost_matrix(path: str | Path, *, weights_first: bool = False,
                     ) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Read a cost-matrix CSV: ``(cost (n, m), weights or None, column names or None)``."""
    p = Path(path)
    if not p.exists():
        raise NotFound(f"no such file: {p}", detail={"path": str(p)})
    with p.open(newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if not rows:
        raise BadInput(f"{p} is empty", detail={"path": str(p)})
    header: list[str] | None = None
    try:
        [float(c) if c.strip() else math.inf for c in rows[0]]
    except ValueError:
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
    if header is not None and header and header[0].lower() == "weight":
        weights_first = True
    width = len(rows[0]) if rows else 0
    data = np.empty((len(rows), width))
    for i, r in enumerate(rows):
        if len(r) != width:
            raise BadInput(f"row {i + 1} has {len(r)} cells, expected {width}", detail={"row": i + 1})
        try:
            data[i] = [float(c) if c.strip() else math.inf for c in r]
        except ValueError:
            raise BadInput(f"row {i + 1}: every cell must be a number of seconds", detail={"row": i + 1}) from None
    if data.shape[0] == 0:
        raise BadInput(f"{p} has no data rows", detail={"path": str(p)})
    weights = None
    if weights_first:
        weights, data = data[:, 0].copy(), data[:, 1:]
        if header is not None:
            header = header[1:]
    if np.isnan(data).any() or (data < 0).any():
        raise BadInput("travel seconds must be non-negative", detail={"path": str(p)})
    return data, weights, header


def read_orlib_pmed(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an OR-Library p-median instance (Beasley 1985, ``pmedN.txt``): ``(cost (n, n), p)``.

    The file holds ``n edges p`` and then one undirected edge ``i j cost`` per line (vertices
    numbered from 1). As the library's notes say, an edge given twice keeps its last cost; the
    cost matrix is the all-pairs shortest-path length, every vertex both demand and candidate.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    p = Path(path)
    if not p.exists():
        raise NotFound(f"no such file: {p}", detail={"path": str(p)})
    lines = [ln.split() for ln in p.read_text(encoding="ascii").splitlines() if ln.strip()]
    try:
        n, n_edges, posts = (int(v) for v in lines[0][:3])
        edges = {}
        for k, ln in enumerate(lines[1:n_edges + 1]):
            i, j, c = int(ln[0]) - 1, int(ln[1]) - 1, float(ln[2])
            if not (0 <= i < n and 0 <= j < n) or c < 0:
                raise BadInput(f"line {k + 2}: edge outside 1..{n} or negative", detail={"line": k + 2})
            edges[(min(i, j), max(i, j))] = c  # the last occurrence wins
    except (ValueError, IndexError):
        raise BadInput(f"{p}: not an OR-Library p-median file", detail={"path": str(p)}) from None
    ij = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2)
    lengths = np.asarray(list(edges.values()), dtype=np.float64)
    keep = ij[:, 0] != ij[:, 1]
    ij, lengths = ij[keep], lengths[keep]
    a = csr_matrix((np.concatenate([lengths, lengths]), (np.concatenate([ij[:, 0], ij[:, 1]]),
                                                         np.concatenate([ij[:, 1], ij[:, 0]]))), shape=(n, n))
    return shortest_path(a, method="D", directed=True), posts
