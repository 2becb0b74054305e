"""Validation of raw chunks into the canonical table, with a reject per refused row.

Casts are vectorised (pyarrow); a cast that fails is bisected to find exactly the values that fail,
so a value is accepted or refused the same way whatever else is in its chunk. Importable from
:mod:`precinct.anpr.parse`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from precinct.anpr.normalize import MAX_PLATE_LENGTH, normalize_array
from precinct.anpr.parse_base import CANONICAL, KINDS, MAX_ID_LENGTH, MAX_REJECT_DETAILS, TS_TYPE, RawChunk, Reject
from precinct.errors import BadInput

# --- validation --------------------------------------------------------------------------------


def _as_string(arr: pa.Array) -> pa.Array:
    if pa.types.is_null(arr.type):
        arr = pa.nulls(len(arr), pa.string())
    elif pa.types.is_integer(arr.type):
        return arr.cast(pa.string())  # never blank
    elif not pa.types.is_string(arr.type):
        try:
            arr = arr.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise BadInput(
                f"a column has an unsupported type ({arr.type}); use strings or numbers",
                detail={"field": "column", "type": str(arr.type)},
            ) from None
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _bisect_cast(arr: pa.Array, to: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast, returning nulls where single values fail; the mask marks failed (non-null) inputs.

    Halves that fail are split until they are small, then cast value by value, so a value is
    accepted or refused exactly as a one-value cast would, whatever else is in the chunk.
    """
    try:
        return arr.cast(to), np.zeros(len(arr), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if len(arr) <= 64:
        values: list[pa.Array] = []
        bad = np.zeros(len(arr), dtype=bool)
        for i in range(len(arr)):
            try:
                values.append(arr.slice(i, 1).cast(to))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                values.append(pa.nulls(1, to))
                bad[i] = True
        return pa.concat_arrays(values), bad
    mid = len(arr) // 2
    left, lbad = _bisect_cast(arr.slice(0, mid), to)
    right, rbad = _bisect_cast(arr.slice(mid), to)
    return pa.concat_arrays([left, right]), np.concatenate([lbad, rbad])


def _to_float(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    if (
        pa.types.is_floating(arr.type)
        or pa.types.is_integer(arr.type)
        or pa.types.is_decimal(arr.type)
    ):
        return arr.cast(pa.float64()), np.zeros(len(arr), dtype=bool)
    return _bisect_cast(_as_string(arr), pa.float64())


def _to_ts(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:  # naive Parquet timestamps are taken as UTC
            arr = pc.assume_timezone(arr, "UTC")
        return arr.cast(TS_TYPE), np.zeros(len(arr), dtype=bool)
    if pa.types.is_date(arr.type) or not (
        pa.types.is_string(arr.type)
        or pa.types.is_large_string(arr.type)
        or pa.types.is_dictionary(arr.type)
    ):
        return pa.nulls(len(arr), TS_TYPE), pc.is_valid(arr).to_numpy(zero_copy_only=False)
    return _bisect_cast(_as_string(arr), TS_TYPE)


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool)


def validate(
    chunk: RawChunk, *, cameras: dict[str, tuple[float, float]] | None = None
) -> tuple[pa.Table, list[Reject]]:
    """The chunk's valid rows in :data:`CANONICAL` form, and a Reject for each other row.

    ``cameras`` (camera_id -> (lat, lon)) fills in positions for rows that name a known camera
    and carry no coordinates.
    """
    n = chunk.num_rows
    bad = np.zeros(n, dtype=bool)
    found: list[tuple[int, str, str]] = []

    def flag(mask: np.ndarray, fld: str, reason: str | Callable[[int], str]) -> None:
        new = mask & ~bad
        if new.any():
            for i in np.flatnonzero(new)[:MAX_REJECT_DETAILS]:
                found.append((int(i), fld, reason(int(i)) if callable(reason) else reason))
            # rows beyond the detail limit are still refused, with the generic reason
            for i in np.flatnonzero(new)[MAX_REJECT_DETAILS:]:
                found.append((int(i), fld, reason if isinstance(reason, str) else f"invalid {fld}"))
            bad[new] = True

    cols = chunk.columns
    nulls_s = pa.nulls(n, pa.string())

    plate_raw = _as_string(cols.get("plate", nulls_s))
    plate = normalize_array(plate_raw)
    lens = pc.utf8_length(plate)
    flag(_mask(pc.is_null(plate_raw)), "plate", "empty plate")
    flag(
        _mask(pc.fill_null(pc.equal(lens, 0), True)),
        "plate",
        "plate has no letters or digits after normalisation",
    )
    flag(
        _mask(pc.fill_null(pc.greater(lens, MAX_PLATE_LENGTH), False)),
        "plate",
        f"plate longer than {MAX_PLATE_LENGTH} characters",
    )

    ts_in = cols.get("ts", nulls_s)
    ts, ts_bad = _to_ts(ts_in if not pa.types.is_null(ts_in.type) else nulls_s)
    flag(_mask(pc.is_null(ts)) & ~ts_bad, "ts", "ts is required")
    flag(ts_bad, "ts", "ts is not an ISO 8601 time with an offset (e.g. 2026-05-01T08:30:00+08:00)")

    camera_id = _as_string(cols.get("camera_id", nulls_s))
    flag(
        _mask(pc.fill_null(pc.greater(pc.utf8_length(camera_id), MAX_ID_LENGTH), False)),
        "camera_id",
        f"camera_id longer than {MAX_ID_LENGTH} characters",
    )
    read_id = _as_string(cols.get("read_id", nulls_s))
    flag(
        _mask(pc.fill_null(pc.greater(pc.utf8_length(read_id), MAX_ID_LENGTH), False)),
        "read_id",
        f"read_id longer than {MAX_ID_LENGTH} characters",
    )

    lat, lat_bad = _to_float(cols.get("lat", pa.nulls(n, pa.float64())))
    lon, lon_bad = _to_float(cols.get("lon", pa.nulls(n, pa.float64())))
    flag(lat_bad, "lat", "lat is not a number")
    flag(lon_bad, "lon", "lon is not a number")
    lat_np = lat.to_numpy(zero_copy_only=False).astype(np.float64)
    lon_np = lon.to_numpy(zero_copy_only=False).astype(np.float64)
    lat_null, lon_null = (
        np.isnan(lat_np) & _mask(pc.is_null(lat)),
        np.isnan(lon_np) & _mask(pc.is_null(lon)),
    )
    with np.errstate(invalid="ignore"):
        flag(
            ~lat_null & ~((lat_np >= -90.0) & (lat_np <= 90.0)), "lat", "lat out of range (-90..90)"
        )
        flag(
            ~lon_null & ~((lon_np >= -180.0) & (lon_np <= 180.0)),
            "lon",
            "lon out of range (-180..180)",
        )
    flag(
        lat_null != lon_null,
        "lat" if bool((lat_null & ~lon_null).any()) else "lon",
        "lat and lon go together",
    )
    no_pos = lat_null & lon_null
    if no_pos.any():
        cam_np = np.asarray(camera_id.to_numpy(zero_copy_only=False), dtype=object)
        known = cameras or {}
        for i in np.flatnonzero(no_pos & ~bad):
            pos = known.get(cam_np[i]) if cam_np[i] is not None else None
            if pos is not None:
                lat_np[i], lon_np[i] = pos
        still = no_pos & np.isnan(lat_np)
        flag(still & _mask(pc.is_null(camera_id)), "lat", "no lat/lon and no camera_id")
        flag(
            still,
            "camera_id",
            lambda i: f"no lat/lon and camera {cam_np[i]!r} is not a known camera",
        )

    kind = _as_string(cols.get("kind", nulls_s))
    kind = pc.fill_null(pc.utf8_lower(kind), "plate")
    flag(~_mask(pc.is_in(kind, value_set=pa.array(KINDS))), "kind", "kind must be plate or tag")

    conf, conf_bad = _to_float(cols.get("confidence", pa.nulls(n, pa.float64())))
    flag(conf_bad, "confidence", "confidence is not a number")
    conf_np = conf.to_numpy(zero_copy_only=False).astype(np.float64)
    conf_null = _mask(pc.is_null(conf))
    with np.errstate(invalid="ignore"):
        flag(
            ~conf_null & ~((conf_np >= 0.0) & (conf_np <= 1.0)),
            "confidence",
            "confidence out of range (0..1)",
        )

    keep = ~bad
    table = pa.table(
        {
            "plate": plate,
            "ts_us": ts.cast(pa.int64()),
            "lat": pa.array(lat_np, type=pa.float64()),
            "lon": pa.array(lon_np, type=pa.float64()),
            "camera_id": camera_id,
            "read_id": read_id,
            "kind": kind,
            "confidence": pa.array(conf_np, type=pa.float64(), mask=conf_null).cast(pa.float32()),
            "line": pa.array(chunk.lines, type=pa.int64()),
        },
        schema=CANONICAL,
    )
    if bad.any():
        table = table.filter(pa.array(keep))
    lines = chunk.lines
    rejects = list(chunk.rejects) + [Reject(int(lines[i]), f, r) for i, f, r in found]
    rejects.sort(key=lambda r: r.line)
    return table, rejects
