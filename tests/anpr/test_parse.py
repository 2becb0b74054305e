"""Parsing and validation of reads: normalisation, rejects with locations, whole-file errors, fuzz."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from precinct.anpr import parse
from precinct.anpr.normalize import normalize_plate
from precinct.errors import BadInput


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("苏M·12345", "苏M12345"),
        ("苏m 12345", "苏M12345"),
        ("苏Ｍ１２３４５", "苏M12345"),
        ("ab-12.3", "AB123"),
        ("  x\u3000y\t", "XY"),
        ("京A・B-C", "京ABC"),
        ("—", ""),
    ],
)
def test_normalize(raw: str, want: str) -> None:
    assert normalize_plate(raw) == want


@given(st.text(max_size=40))
def test_normalize_is_idempotent_and_clean(raw: str) -> None:
    once = normalize_plate(raw)
    assert normalize_plate(once) == once
    assert not any(ch in once for ch in " .-·") and once == once.upper()


def _validate_all(chunks: list[parse.RawChunk]) -> tuple[pa.Table, list[parse.Reject]]:
    tables, rejects = [], []
    for c in chunks:
        t, r = parse.validate(c, cameras={"KNOWN": (31.0, 120.0)})
        tables.append(t)
        rejects += r
    return pa.concat_tables(tables) if tables else parse.CANONICAL.empty_table(), rejects


def test_csv_rejects_name_line_field_and_reason() -> None:
    data = (
        "plate,ts,lat,lon,camera_id,read_id,kind,confidence\n"
        "苏A1,2026-03-01T08:00:00+08:00,31.2,120.5,,r1,,0.9\n"  # 2 ok
        ",2026-03-01T00:00:00Z,31,120,,,,\n"  # 3 empty plate
        "苏A2,yesterday,31,120,,,,\n"  # 4 bad ts
        "苏A3,2026-03-01T00:00:00,31,120,,,,\n"  # 5 no offset
        "苏A4,2026-03-01T00:00:00Z,95,120,,,,\n"  # 6 lat range
        "苏A5,2026-03-01T00:00:00Z,31,abc,,,,\n"  # 7 lon not a number
        "苏A6,2026-03-01T00:00:00Z,,,KNOWN,,tag,\n"  # 8 ok via camera
        "苏A7,2026-03-01T00:00:00Z,,,NOPE,,,\n"  # 9 unknown camera
        "苏A8,2026-03-01T00:00:00Z,31,120,,,car,\n"  # 10 bad kind
        "苏A9,2026-03-01T00:00:00Z,31,120,,,,1.5\n"  # 11 confidence
    ).encode()
    table, rejects = _validate_all(parse.parse_csv(data))
    assert table.column("plate").to_pylist() == ["苏A1", "苏A6"]
    assert table.column("ts_us").to_pylist()[0] == 1772323200000000  # 08:00+08:00 = 00:00Z
    assert table.column("lat").to_pylist()[1] == 31.0
    got = {(r.line, r.field) for r in rejects}
    assert got == {
        (3, "plate"),
        (4, "ts"),
        (5, "ts"),
        (6, "lat"),
        (7, "lon"),
        (9, "camera_id"),
        (10, "kind"),
        (11, "confidence"),
    }
    assert all(r.reason for r in rejects)


def test_ragged_rows_and_bad_utf8_use_the_exact_reader() -> None:
    data = (
        b"plate,ts,lat,lon\n"
        b"A1,2026-03-01T00:00:00Z,31,120\n"
        b"A2,2026-03-01T00:00:00Z,31\n"
        b"\xff\xfe,2026-03-01T00:00:00Z,31,120\n"
        b'"A\n3",2026-03-01T00:00:00Z,31,120\n'
        b"A4,2026-03-01T00:00:00Z,31,120\n"
    )
    table, rejects = _validate_all(parse.parse_csv(data))
    assert table.column("plate").to_pylist() == ["A1", "A3", "A4"]
    assert table.column("line").to_pylist() == [2, 5, 7]
    assert [(r.line, r.field) for r in rejects] == [(3, "row"), (4, "row")]


@pytest.mark.parametrize(
    "header", ["plate,lat,lon", "ts,lat,lon", "plate,ts", "plate,ts,lat", "plate,plate,ts,lat,lon"]
)
def test_wrong_columns_are_a_whole_file_error(header: str) -> None:
    with pytest.raises(BadInput) as exc:
        parse.parse_csv(f"{header}\n".encode())
    assert exc.value.detail["line"] == 1


def test_truncated_parquet_is_refused(tmp_path: Path) -> None:
    t = pa.table(
        {
            "plate": ["A"] * 1000,
            "ts": ["2026-03-01T00:00:00Z"] * 1000,
            "lat": [31.0] * 1000,
            "lon": [120.0] * 1000,
        }
    )
    p = tmp_path / "r.parquet"
    pq.write_table(t, p)
    data = p.read_bytes()
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput) as exc:
        list(parse.iter_parquet(bad))
    assert "truncated" in exc.value.message
    assert exc.value.detail["file"] == str(bad)


def test_parquet_native_types(tmp_path: Path) -> None:
    ts = pa.array([1772323200000000, 1772323260000000], pa.timestamp("us", tz="Asia/Shanghai"))
    t = pa.table({"plate": ["a-1", "b 2"], "ts": ts, "lat": [31.0, 31.1], "lon": [120.0, 120.1]})
    p = tmp_path / "r.parquet"
    pq.write_table(t, p)
    table, rejects = _validate_all(list(parse.iter_parquet(p)))
    assert not rejects
    assert table.column("plate").to_pylist() == ["A1", "B2"]
    assert table.column("ts_us").to_pylist() == [1772323200000000, 1772323260000000]
    assert table.column("line").to_pylist() == [1, 2]


def test_json_items_are_numbered() -> None:
    body = json.dumps(
        {
            "reads": [
                {"plate": "A", "ts": "2026-03-01T00:00:00Z", "lat": 31, "lon": 120},
                "nope",
                {"plate": "B", "ts": "2026-03-01T00:00:00Z", "lat": [1], "lon": 120},
                {"plate": "C", "lat": 31, "lon": 120},
                {"plate": "D", "ts": "2026-03-01T00:00:00Z", "lat": 31.5, "lon": 120.5, "extra": 1},
            ]
        }
    ).encode()
    table, rejects = _validate_all(parse.parse_json(body))
    assert table.column("plate").to_pylist() == ["A", "D"]
    assert [(r.line, r.field) for r in rejects] == [(2, "item"), (3, "lat"), (4, "ts")]
    with pytest.raises(BadInput):
        parse.parse_json(b"{not json")
    with pytest.raises(BadInput):
        parse.parse_json(b'{"rows": []}')


# --- fuzz ----------------------------------------------------------------------------------------

_field = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "2026-03-01T00:00:00Z",
            "2026-03-01T08:00:00+08:00",
            "31.2",
            "-999",
            "nan",
            "",
            "苏M·12345",
            "KNOWN",
            "tag",
            "0.5",
            "1e400",
            '"',
            ",",
            "\n",
            "\r\n",
        ]
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_field, min_size=0, max_size=10), max_size=20), st.booleans())
def test_fuzz_csv_parser(rows: list[list[str]], quote: bool) -> None:
    """Any body: a BadInput for the whole, or every data row either valid or rejected, never both."""
    header = "plate,ts,lat,lon,camera_id,read_id,kind,confidence"

    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quote else v

    body = (header + "\n" + "\n".join(",".join(cell(v) for v in r) for r in rows) + "\n").encode()
    try:
        chunks = parse.parse_csv(body)
    except BadInput:
        return
    table, rejects = _validate_all(chunks)
    lines = table.column("line").to_pylist()
    rejected = [r.line for r in rejects]
    assert not set(lines) & set(rejected)
    assert len(set(rejected)) == len(rejected)
    for plate in table.column("plate").to_pylist():
        assert plate and normalize_plate(plate) == plate
    lat = table.column("lat").to_pylist()
    assert all(-90 <= x <= 90 for x in lat)


_json_value = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)
    ),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "plate": _json_value,
                    "ts": st.sampled_from(["2026-03-01T00:00:00Z", "x"]) | _json_value,
                    "lat": _json_value | st.floats(-100, 100),
                    "lon": _json_value | st.floats(-200, 200),
                },
                optional={
                    "kind": _json_value,
                    "confidence": _json_value,
                    "read_id": _json_value,
                    "camera_id": _json_value,
                },
            ),
            _json_value,
        ),
        max_size=15,
    )
)
def test_fuzz_json_parser(items: list[object]) -> None:
    body = json.dumps({"reads": items}).encode()
    try:
        chunks = parse.parse_json(body)
    except BadInput:
        return
    table, rejects = _validate_all(chunks)
    assert table.num_rows + len(rejects) == len(items)
    assert sorted(table.column("line").to_pylist() + [r.line for r in rejects]) == list(
        range(1, len(items) + 1)
    )


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    for fn in (parse.parse_csv, parse.parse_json, parse.parse_arrow_ipc):
        try:
            chunks = fn(data)
        except BadInput:
            continue
        _validate_all(chunks)
