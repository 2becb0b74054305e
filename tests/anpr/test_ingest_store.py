"""The vectorised ingest pieces against plain-Python references.

- plate normalisation over an Arrow array (with its already-canonical fast path) equals the scalar
  :func:`normalize_plate` on every value (hypothesis);
- the storage order equals Python's sort by (UTC day, plate bytes, ts, input position);
- deduplication over several chunks in one transaction equals a brute-force "first (read_id, ts)
  wins" replay, and rids are unique and follow the storage order.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from precinct.anpr import parse, store
from precinct.anpr.normalize import normalize_array, normalize_plate
from precinct.anpr.warehouse_migrations import v0001_layout

DAY = store.DAY_US

plate_chars = st.sampled_from(
    list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcxyz") + list("苏浙沪皖京粤鲁﨑") +
    list(" .-·・－．　ＡＢ１２ﾊß\u200b\u00a0\t") + ["ǆ", "Ⅻ", "ﬁ", "\u0301", "é"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(plate_chars, max_size=10)), max_size=60))
def test_normalize_array_equals_the_scalar_rule(values: list[str | None]) -> None:
    got = normalize_array(pa.array(values, pa.string())).to_pylist()
    assert got == [None if v is None else normalize_plate(v) for v in values]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(plate_chars.filter(lambda c: c.isalnum()), min_size=1, max_size=4),
                  st.integers(min_value=-3 * DAY, max_value=5 * DAY)),
        min_size=1, max_size=80,
    )
)
def test_storage_order_is_day_plate_time_then_input(rows: list[tuple[str, int]]) -> None:
    plates = pa.array([p for p, _ in rows], pa.string())
    ts = np.array([t for _, t in rows], dtype=np.int64)
    order = store.storage_order(plates, ts).tolist()
    want = sorted(range(len(rows)), key=lambda i: (rows[i][1] // DAY, rows[i][0].encode(), rows[i][1], i))
    assert order == want


def canonical(rows: list[tuple[str, int, str | None]], first_line: int) -> pa.Table:
    n = len(rows)
    return pa.table(
        {
            "plate": pa.array([r[0] for r in rows], pa.string()),
            "ts_us": pa.array([r[1] for r in rows], pa.int64()),
            "lat": pa.array(np.full(n, 31.3)),
            "lon": pa.array(np.full(n, 120.6)),
            "camera_id": pa.array([f"C{i % 3}" for i in range(n)], pa.string()),
            "read_id": pa.array([r[2] for r in rows], pa.string()),
            "kind": pa.array(["plate"] * n, pa.string()),
            "confidence": pa.array([None] * n, pa.float32()),
            "line": pa.array(np.arange(first_line, first_line + n), pa.int64()),
        },
        schema=parse.CANONICAL,
    )


row = st.tuples(
    st.sampled_from(["A1", "B2", "苏E1", "Z9"]),
    st.integers(min_value=0, max_value=4).map(lambda k: k * DAY // 2 + 7),
    st.one_of(st.none(), st.sampled_from(["r1", "r2", "r3", "r4", "r5"])),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(row, max_size=25), min_size=1, max_size=4))
def test_deduplication_over_chunks_equals_first_wins(chunks: list[list[tuple[str, int, str | None]]]) -> None:
    con = duckdb.connect()
    con.execute(v0001_layout.DDL)
    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    seen: set[tuple[str, int]] = set()
    want: list[tuple[str, int, str | None]] = []
    line = 1
    for batch_id, rows in enumerate(chunks, start=1):
        expect_dups = 0
        expect_rows = []
        for r in rows:
            if r[2] is not None and (r[2], r[1]) in seen:
                expect_dups += 1
                continue
            if r[2] is not None:
                seen.add((r[2], r[1]))
            expect_rows.append(r)
        appended = store.append_chunk(cur, canonical(rows, line), batch_id=batch_id)
        line += len(rows)
        assert appended.duplicates == expect_dups
        got = appended.stored
        assert sorted(zip(got.column("plate").to_pylist(), got.column("ts_us").to_pylist(),
                          got.column("read_id").to_pylist(), strict=True), key=repr) == sorted(expect_rows, key=repr)
        rids = got.column("rid").to_pylist()
        assert rids == sorted(rids) and len(set(rids)) == len(rids)
        keys = [(t // DAY, p.encode(), t) for p, t in zip(got.column("plate").to_pylist(),
                                                           got.column("ts_us").to_pylist(), strict=True)]
        assert keys == sorted(keys)
        assert set(got.column("batch").to_pylist()) <= {batch_id}
        want += expect_rows
    stored = cur.execute("SELECT plate, ts_us, read_id, rid FROM anpr_reads").fetchall()
    cur.execute("COMMIT")
    assert sorted(((p, t, r) for p, t, r, _ in stored), key=repr) == sorted(want, key=repr)
    assert len({rid for *_, rid in stored}) == len(stored)


def test_append_chunk_empty_table_has_the_stored_columns() -> None:
    con = duckdb.connect()
    con.execute(v0001_layout.DDL)
    out = store.append_chunk(con.cursor(), parse.CANONICAL.empty_table(), batch_id=1)
    assert out.duplicates == 0 and out.stored.num_rows == 0
    assert {"rid", "batch", "plate", "ts_us"} <= set(out.stored.column_names)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_storage_order_small_inputs(n: int) -> None:
    order = store.storage_order(pa.array(["B"] * n, pa.string()), np.arange(n, dtype=np.int64)[::-1].copy())
    assert order.tolist() == list(range(n))[::-1]


def test_storage_order_over_centuries_uses_the_two_key_sort() -> None:
    """A span too wide to pack (day, plate) and time into one integer still sorts correctly."""
    rows = [(chr(ord("A") + i % 12), t) for i, t in enumerate([0, 10**17, -(10**17), 5, 10**17 + 1] * 6)]
    plates = pa.array([p for p, _ in rows], pa.string())
    ts = np.array([t for _, t in rows], dtype=np.int64)
    want = sorted(range(len(rows)), key=lambda i: (rows[i][1] // DAY, rows[i][0].encode(), rows[i][1], i))
    assert store.storage_order(plates, ts).tolist() == want
