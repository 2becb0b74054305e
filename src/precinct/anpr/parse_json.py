"""JSON bodies of plate/tag reads (a list of reads, or ``{"reads": [...]}``) as raw chunks.

Typed decoding with msgspec on the common shape, a general decoder for the rest; every item that
cannot be read is named by its index. Importable from :mod:`precinct.anpr.parse`.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from precinct.anpr.parse_base import COLUMNS, RawChunk, Reject, _has_surrogates
from precinct.errors import BadInput

# --- JSON --------------------------------------------------------------------------------------


def parse_json(
    data: bytes,
    *,
    key: str = "reads",
    columns: tuple[str, ...] = COLUMNS,
    string_fields: tuple[str, ...] | None = None,
) -> list[RawChunk]:
    """A JSON batch: ``{"reads": [{...}, ...]}`` or a bare list. Items are numbered from 1.

    Columns are built whole and typed by Arrow; only a column whose values are of mixed or wrong
    JSON types is checked item by item (so a clean batch costs no per-item Python work). ``key``,
    ``columns`` and ``string_fields`` describe another batch format (person–vehicle links).
    """
    strings = _STRING_FIELDS if string_fields is None else string_fields
    if key == "reads" and columns == COLUMNS:
        typed = _typed_reads(data)
        if typed is not None:  # every item an object with scalar fields: no per-item checks
            numbers = list(range(1, len(typed) + 1))
            found: dict[int, tuple[str, str]] = {}
            cols = {
                name: _json_column(name, [getattr(o, name) for o in typed], numbers, found, strings)
                for name in columns
            }
            return _json_chunk(cols, numbers, found)
    doc = _decode_json(data)
    items = doc.get(key) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise BadInput(
            f'expected a JSON list of {key} or {{"{key}": [...]}}',
            detail={"item": 0, "field": key},
        )
    problems: dict[int, tuple[str, str]] = {}
    numbers = [n for n, item in enumerate(items, start=1) if type(item) is dict]
    if len(numbers) != len(items):
        for n, item in enumerate(items, start=1):
            if type(item) is not dict:
                problems[n] = ("item", "each read must be a JSON object")
    objs = [items[n - 1] for n in numbers]
    arrays: dict[str, pa.Array] = {}
    for name in columns:
        values = [o.get(name) for o in objs]
        arrays[name] = _json_column(name, values, numbers, problems, strings)
    return _json_chunk(arrays, numbers, problems)


def _json_chunk(
    arrays: dict[str, pa.Array], numbers: list[int], problems: dict[int, tuple[str, str]]
) -> list[RawChunk]:
    keep = np.array([n not in problems for n in numbers], dtype=bool)
    if not keep.all():
        mask = pa.array(keep)
        arrays = {k: v.filter(mask) for k, v in arrays.items()}
    lines = np.asarray(numbers, dtype=np.int64)[keep]
    rejects = [Reject(n, f, r) for n, (f, r) in sorted(problems.items())]
    return [RawChunk(arrays, lines, rejects)]


_STRING_FIELDS = ("plate", "ts", "camera_id", "read_id", "kind")
_Scalar = str | int | float | None  # msgspec refuses true/false, objects and lists here


class _Read(msgspec.Struct):
    plate: _Scalar = None
    ts: _Scalar = None
    lat: _Scalar = None
    lon: _Scalar = None
    camera_id: _Scalar = None
    read_id: _Scalar = None
    kind: _Scalar = None
    confidence: _Scalar = None


class _ReadsDoc(msgspec.Struct):
    reads: list[_Read]


_READS_LIST = msgspec.json.Decoder(list[_Read])
_READS_DOC = msgspec.json.Decoder(_ReadsDoc)


def _typed_reads(data: bytes | str) -> list[_Read] | None:
    """The reads of a clean batch decoded straight into records, or None when anything is unusual
    (an item that is not an object, a field that is not a scalar, a value JSON allows but msgspec
    does not): then :func:`parse_json` takes the general path, item by item."""
    raw = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.encode("utf-8")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        if raw.lstrip()[:1] == b"[":
            return _READS_LIST.decode(raw)
        return _READS_DOC.decode(raw).reads
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        return None


def _decode_json(data: bytes | str) -> Any:
    """The JSON document: msgspec's decoder first (a few times faster), and where it refuses
    (integers beyond 64 bits, NaN, very deep nesting, bad UTF-8) the standard library's, so a
    body is accepted or refused exactly as ``json.loads`` would."""
    raw = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.encode("utf-8")
    try:
        return msgspec.json.decode(raw.removeprefix(codecs.BOM_UTF8))
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):  # msgspec raises the last on bad UTF-8
        pass
    try:
        return json.loads(codecs.decode(raw, "utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInput(
            f"body is not valid JSON: {str(exc)[:200]}", detail={"item": 0, "field": "body"}
        ) from None


def _json_column(
    name: str,
    values: list[Any],
    numbers: list[int],
    problems: dict[int, tuple[str, str]],
    string_fields: tuple[str, ...] = _STRING_FIELDS,
) -> pa.Array:
    """One column of a JSON batch as Arrow; values of the wrong JSON type become problems."""
    try:
        arr = pa.array(values)
        t = arr.type
        if pa.types.is_null(t) or pa.types.is_string(t):
            return arr.cast(pa.string())
        if pa.types.is_integer(t) or (pa.types.is_floating(t) and name not in string_fields):
            return arr.cast(pa.string()) if name in string_fields else arr.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    out: list[str | None] = []
    for n, value in zip(numbers, values, strict=True):
        if value is None:
            out.append(None)
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            problems.setdefault(
                n, (name, f"{name} must be a string or a number, not {type(value).__name__}")
            )
            out.append(None)
        elif name in string_fields and isinstance(value, float):
            problems.setdefault(n, (name, f"{name} must be a string"))
            out.append(None)
        elif isinstance(value, str) and _has_surrogates(value):  # a lone \uD800-style escape
            problems.setdefault(n, (name, f"{name} is not valid Unicode (a lone surrogate)"))
            out.append(None)
        else:
            out.append(value if isinstance(value, str) else repr(value))
    return pa.array(out, type=pa.string())
