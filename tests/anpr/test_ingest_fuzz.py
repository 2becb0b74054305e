"""Fuzzing the ingest parsers added with the fast paths: the JSON decoder (msgspec first, the standard
library where it refuses) accepts and refuses exactly what ``json.loads`` does, and the links parsers
account for every item or line (stored or rejected) or refuse the whole batch with BadInput."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from precinct.anpr import links, parse, parse_json
from precinct.errors import BadInput

_scalar = (
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8)
)
_doc = st.recursive(
    _scalar,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(_doc, st.booleans())
def test_json_decoder_agrees_with_the_standard_library(doc: Any, bom: bool) -> None:
    body = (b"\xef\xbb\xbf" if bom else b"") + json.dumps(doc, ensure_ascii=False).encode()
    assert _same(parse_json._decode_json(body), json.loads(body.decode("utf-8-sig")))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_json_decoder_refuses_what_the_standard_library_refuses(data: bytes) -> None:
    try:
        want: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        with pytest.raises(BadInput):
            parse_json._decode_json(data)
        return
    assert _same(parse_json._decode_json(data), want)


_field = _scalar | st.sampled_from(["P1", "苏E·12345", "2026-03-01T08:00:00+08:00", "2026-03-01T08:00:00", ""])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"person_id": _field, "plate": _field, "ts": _field},
            optional={"source": _field, "link_id": _field},
        )
        | _scalar,
        max_size=15,
    )
)
def test_fuzz_links_json(items: list[Any]) -> None:
    try:
        chunks = links.parse_json(json.dumps({"links": items}).encode())
    except BadInput:
        return
    table, rejects = links.validate(chunks[0])
    assert sorted(table.column("line").to_pylist() + [r.line for r in rejects]) == list(range(1, len(items) + 1))
    assert all(p for p in table.column("plate").to_pylist())


_cell = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6) | st.sampled_from(
    ["2026-03-01T00:00:00Z", "P1", "A1", '"a,b"', ""]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(_cell, min_size=0, max_size=5), max_size=12))
def test_fuzz_links_csv(rows: list[list[str]]) -> None:
    text = "person_id,plate,ts,source\n" + "\n".join(",".join(r) for r in rows) + "\n"
    try:
        chunks = links.parse_csv(text.encode())
    except BadInput:
        return
    for chunk in chunks:
        table, rejects = links.validate(chunk)
        assert table.num_rows + len(rejects) >= chunk.num_rows
        assert len(set(table.column("line").to_pylist()) & {r.line for r in rejects}) == 0


def test_a_carriage_return_inside_the_header_is_bad_input() -> None:
    """Found by the byte fuzzer: the header reader raised csv.Error instead of BadInput."""
    with pytest.raises(BadInput) as err:
        parse.parse_csv(b"plate\rx,ts\n1,2\n")
    assert err.value.detail["line"] == 1


_read_value = (
    _scalar | st.text(st.characters(categories=["Cs", "Lu", "Nd"]), max_size=3)
    | st.lists(st.integers(), max_size=2) | st.sampled_from(["2026-03-01T08:00:00+08:00", "苏E·1"])
)


def _chunk_key(chunks: list[parse.RawChunk]) -> tuple[Any, ...]:
    (c,) = chunks
    return (c.lines.tolist(), c.rejects, {k: v.to_pylist() for k, v in sorted(c.columns.items())})


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from([*parse.COLUMNS, "extra"]), _read_value, max_size=9) | _scalar,
        max_size=12,
    ),
    st.booleans(),
    st.booleans(),
)
def test_typed_json_path_equals_the_general_path(items: list[Any], wrapped: bool, ascii_only: bool) -> None:
    body = json.dumps({"reads": items} if wrapped else items, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        fast = _chunk_key(parse.parse_json(body))
    except BadInput:
        fast = ("bad",)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parse_json, "_typed_reads", lambda _data: None)
        try:
            general = _chunk_key(parse.parse_json(body))
        except BadInput:
            general = ("bad",)
    assert fast == general


def test_a_body_that_is_not_utf8_is_bad_input() -> None:
    """Found by the fuzzer above: msgspec raised UnicodeDecodeError (a 500) on an encoded surrogate."""
    with pytest.raises(BadInput) as err:
        parse.parse_json(b'[{"plate": "\xed\xa0\x80"}]')
    assert err.value.detail["field"] == "body"
