"""Incident events for analysis: one table of id, time, type and metric coordinates.

Two sources: an analyst's CSV (:func:`read_csv`) and Precinct's own incidents
(:func:`from_records`, fed by ``precinct.command.service.incident_records``). Either way the
result is an :class:`Events` whose ``x``, ``y`` are metres in a named projected CRS:

- projected input (``x``, ``y`` with ``crs="EPSG:N"``) is used as given, so results match the tools
  analysts already run on the same published data;
- WGS84 input (``lat``, ``lon``) is projected to the UTM zone of the data's centre (pyproj), or to
  ``crs`` when one is given.

Bad rows are never dropped silently: every bad row is reported with its line number and reason,
and the import fails.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from precinct.errors import BadInput

MAX_EVENTS = 5_000_000
MAX_REPORTED_ERRORS = 50
DAY_S = 86_400.0

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Events:
    """Point events in a metric projection.

    Attributes
    ----------
    ids, types : numpy.ndarray
        Object arrays of strings.
    ts : numpy.ndarray
        ``datetime64[s]``: wall-clock times (timezone-aware input is converted to UTC).
    x, y : numpy.ndarray
        Metres in ``crs``.
    crs : str
        The projection, e.g. ``"EPSG:32650"``.
    """

    ids: npt.NDArray[Any]
    ts: npt.NDArray[np.datetime64]
    types: npt.NDArray[Any]
    x: FloatArray
    y: FloatArray
    crs: str

    def __len__(self) -> int:
        return int(self.x.size)

    def days(self, origin: np.datetime64 | None = None) -> FloatArray:
        """Event times in days since ``origin`` (default: the first event's midnight)."""
        if origin is None:
            origin = self.ts.min().astype("datetime64[D]") if len(self) else np.datetime64("1970-01-01")
        return np.asarray((self.ts - origin).astype("timedelta64[s]").astype(np.float64) / DAY_S)

    def select(self, mask: npt.NDArray[np.bool_]) -> Events:
        """The events where ``mask`` is true."""
        return Events(self.ids[mask], self.ts[mask], self.types[mask], self.x[mask], self.y[mask], self.crs)

    def of_types(self, types: Iterable[str] | None) -> Events:
        """Only events of these type codes (all when ``types`` is None or empty)."""
        wanted = set(types or ())
        if not wanted:
            return self
        return self.select(np.isin(self.types, sorted(wanted)))


# --- projections ---------------------------------------------------------------------------------

def metric_crs(crs: str) -> Any:
    """A pyproj CRS that is projected with metre axes, or :class:`BadInput` saying why not."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        c = CRS.from_user_input(crs)
    except CRSError:
        raise BadInput(f"crs: {crs!r} is not a coordinate reference system (give e.g. EPSG:26971)",
                       detail={"field": "crs"}) from None
    units = {a.unit_name for a in c.axis_info[:2]}
    if not c.is_projected or not units <= {"metre", "meter"}:
        raise BadInput(f"crs: {crs} is not a projected CRS in metres (units {sorted(units)})",
                       detail={"field": "crs"})
    return c


def _crs_name(c: Any) -> str:
    auth = c.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else str(c.to_string())


def utm_crs_for(lat: FloatArray, lon: FloatArray) -> str:
    """The WGS84 UTM zone (``EPSG:326NN`` / ``327NN``) of the points' centre."""
    if lat.size == 0:
        raise BadInput("no events to place in a projection")
    la, lo = float(np.median(lat)), float(np.median(lon))
    zone = int(np.clip(np.floor((lo + 180.0) / 6.0) + 1, 1, 60))
    return f"EPSG:{(32600 if la >= 0 else 32700) + zone}"


def project_wgs84(lat: FloatArray, lon: FloatArray, crs: str | None = None) -> tuple[FloatArray, FloatArray, str]:
    """Project WGS84 degrees to metres (``crs``, or the local UTM zone); returns ``x, y, crs``."""
    from pyproj import Transformer

    name = crs or utm_crs_for(lat, lon)
    target = metric_crs(name)
    tr = Transformer.from_crs("EPSG:4326", target, always_xy=True)
    x, y = tr.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), _crs_name(target)


def to_wgs84(x: FloatArray, y: FloatArray, crs: str) -> tuple[FloatArray, FloatArray]:
    """Metres in ``crs`` back to WGS84 ``lat, lon`` (for map layers)."""
    from pyproj import Transformer

    tr = Transformer.from_crs(metric_crs(crs), "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)


# --- times ---------------------------------------------------------------------------------------

def parse_ts(text: str) -> np.datetime64:
    """A date (``2026-11-23``) or ISO 8601 date-time; an offset is converted to UTC."""
    s = text.strip()
    if not s:
        raise ValueError("ts is empty")
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"ts {s!r} is not an ISO 8601 date or date-time") from None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(t.replace(microsecond=0), "s")


def _ts_of(value: Any) -> np.datetime64:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return np.datetime64(value.replace(microsecond=0), "s")
    if isinstance(value, dt.date):
        return np.datetime64(value, "s")
    return parse_ts(str(value))


# --- CSV -----------------------------------------------------------------------------------------

def _float(row: Mapping[str, str], key: str) -> float:
    raw = (row.get(key) or "").strip()
    if not raw:
        raise ValueError(f"{key} is empty")
    try:
        v = float(raw)
    except ValueError:
        raise ValueError(f"{key} {raw!r} is not a number") from None
    if not np.isfinite(v):
        raise ValueError(f"{key} {raw!r} is not finite")
    return v


def _fail(path: str, errors: list[dict[str, Any]], n_bad: int) -> BadInput:
    first = errors[0]
    more = f" (and {n_bad - 1} more bad rows)" if n_bad > 1 else ""
    return BadInput(f"{path}: line {first['line']}: {first['reason']}{more}",
                    detail={"file": path, "bad_rows": n_bad, "errors": errors})


def read_csv(path: Path | str, *, crs: str | None = None, max_events: int = MAX_EVENTS) -> Events:
    """Read incidents from a CSV with ``id``, ``ts``, ``type`` and ``lat``, ``lon`` or ``x``, ``y``.

    Parameters
    ----------
    path : Path or str
        The file (UTF-8, header row; a BOM is accepted).
    crs : str, optional
        For ``x``, ``y``: their projected CRS (required). For ``lat``, ``lon``: the metric
        projection to use instead of the local UTM zone.
    max_events : int
        Refuse files with more data rows than this (checked while reading).

    Returns
    -------
    Events

    Raises
    ------
    BadInput
        A missing column or file, no rows, too many rows, or bad rows: the message names the first
        bad line and its reason, ``detail["errors"]`` lists up to 50 as ``{"line", "reason"}``.
    """
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{p}: no such file", detail={"file": str(p)})
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
        missing = [c for c in ("id", "ts", "type") if c not in cols]
        projected = "x" in cols and "y" in cols
        if not projected and not ("lat" in cols and "lon" in cols):
            missing.append("lat,lon or x,y")
        if missing:
            raise BadInput(f"{p}: line 1: missing columns {', '.join(missing)}",
                           detail={"file": str(p), "line": 1, "columns": list(cols)})
        if projected and crs is None:
            raise BadInput(f"{p}: x, y columns need --crs EPSG:N (their projection)", detail={"field": "crs"})
        if projected:
            metric_crs(crs or "")
        kx, ky = ("x", "y") if projected else ("lon", "lat")
        ids: list[str] = []
        types: list[str] = []
        ts: list[np.datetime64] = []
        a: list[float] = []
        b: list[float] = []
        seen: dict[str, int] = {}
        errors: list[dict[str, Any]] = []
        n_bad = 0
        for row0 in reader:
            line = reader.line_num
            if len(ids) + n_bad >= max_events:
                raise BadInput(f"{p}: more than {max_events} rows; split the file",
                               detail={"file": str(p), "limit": max_events})
            row = {k.strip().lower(): (v if isinstance(v, str) else "") for k, v in row0.items() if k}
            try:
                ident = row[cols["id"].strip().lower()].strip()
                if not ident:
                    raise ValueError("id is empty")
                if ident in seen:
                    raise ValueError(f"id {ident!r} repeats line {seen[ident]}")
                kind = row["type"].strip()
                if not kind:
                    raise ValueError("type is empty")
                t = parse_ts(row["ts"])
                u, v = _float(row, kx), _float(row, ky)
                if not projected and not (-180.0 <= u <= 180.0 and -90.0 <= v <= 90.0):
                    raise ValueError(f"lat {v}, lon {u} is not a WGS84 position")
            except ValueError as exc:
                n_bad += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append({"line": line, "reason": str(exc)})
                continue
            seen[ident] = line
            ids.append(ident)
            types.append(kind)
            ts.append(t)
            a.append(u)
            b.append(v)
    if errors:
        raise _fail(str(p), errors, n_bad)
    if not ids:
        raise BadInput(f"{p}: no data rows", detail={"file": str(p)})
    ua, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if projected:
        x, y, name = ua, vb, _crs_name(metric_crs(crs or ""))
    else:
        x, y, name = project_wgs84(vb, ua, crs)
    return Events(np.asarray(ids, dtype=object), np.asarray(ts, dtype="datetime64[s]"),
                  np.asarray(types, dtype=object), x, y, name)


def from_arrays(*, x: npt.ArrayLike, y: npt.ArrayLike, ts: npt.ArrayLike, crs: str,
                types: npt.ArrayLike | None = None, ids: npt.ArrayLike | None = None) -> Events:
    """Events from arrays already in a metric CRS (tests, benchmarks, the simulator)."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = xa.size
    t = np.asarray(ts).astype("datetime64[s]")
    if ya.size != n or t.size != n:
        raise BadInput("x, y and ts must have the same length")
    kinds = np.asarray(types, dtype=object) if types is not None else np.full(n, "event", dtype=object)
    idents = np.asarray(ids, dtype=object) if ids is not None else np.arange(n).astype(str).astype(object)
    return Events(idents, t, kinds, xa, ya, _crs_name(metric_crs(crs)))


def from_records(records: Iterable[Mapping[str, Any]], *, crs: str | None = None) -> Events:
    """Events from incident dicts (``id``, ``ts``, ``type``, ``lat``, ``lon``); unlocated ones are skipped.

    Incidents without a position cannot be placed on a map, so they are left out here (the caller
    reports how many); anything else malformed raises :class:`BadInput` naming the incident.
    """
    ids: list[str] = []
    types: list[str] = []
    ts: list[np.datetime64] = []
    lat: list[float] = []
    lon: list[float] = []
    for r in records:
        if r.get("lat") is None or r.get("lon") is None:
            continue
        try:
            ts.append(_ts_of(r["ts"]))
            la, lo = float(r["lat"]), float(r["lon"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput(f"incident {r.get('id')!r}: {exc}", detail={"id": str(r.get("id"))}) from None
        if not (-90.0 <= la <= 90.0 and -180.0 <= lo <= 180.0):
            raise BadInput(f"incident {r.get('id')!r}: ({la}, {lo}) is not a WGS84 position",
                           detail={"id": str(r.get("id"))})
        ids.append(str(r["id"]))
        types.append(str(r.get("type") or ""))
        lat.append(la)
        lon.append(lo)
    if not ids:
        raise BadInput("no located incidents in the period")
    x, y, name = project_wgs84(np.asarray(lat), np.asarray(lon), crs)
    return Events(np.asarray(ids, dtype=object), np.asarray(ts, dtype="datetime64[s]"),
                  np.asarray(types, dtype=object), x, y, name)
