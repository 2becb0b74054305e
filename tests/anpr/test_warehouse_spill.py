"""The warehouse caps DuckDB's spill files (PRECINCT_WAREHOUSE_MAX_SPILL) and says so when a query
needs more: at one billion reads the presence index build spilled 18.4 GiB (docs/BENCHMARKS.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from precinct.config import Settings
from precinct.core.warehouse import Warehouse
from precinct.errors import SpillLimit

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2_000_000
# ~200 MB of distinct strings: a self-join or a sort of them spills at a 64 MB memory limit
JOIN = "SELECT a.i, b.s FROM t a JOIN t b ON a.s = b.s2"
SORT = "SELECT s2, i FROM t ORDER BY s2"


def _filled(path: Path, max_spill: int | None) -> Warehouse:
    wh = Warehouse(path, threads=1, memory_limit="64MB", max_spill=max_spill)
    with wh.transaction() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS t AS SELECT i, md5(i::VARCHAR) AS s, md5((i * 7)::VARCHAR) AS s2 "
                    f"FROM range({ROWS}) r(i)")
    return wh


@pytest.mark.parametrize("sql", [JOIN, SORT], ids=["join", "sort"])
def test_a_query_past_the_cap_fails_clearly_and_the_warehouse_stays_usable(tmp_path: Path, sql: str) -> None:
    path = tmp_path / "warehouse" / "precinct.duckdb"
    wh = _filled(path, max_spill=4 << 20)
    try:
        assert wh.temp_directory == path.parent / "spill"
        assert wh.query("SELECT current_setting('temp_directory')")[0][0] == str(path.parent / "spill")
        with pytest.raises(SpillLimit) as caught:
            wh.query_arrow(sql)
        err = caught.value
        assert "PRECINCT_WAREHOUSE_MAX_SPILL" in err.message
        assert err.detail["setting"] == "PRECINCT_WAREHOUSE_MAX_SPILL"
        assert err.detail["max_spill_bytes"] == 4 << 20
        assert (err.http_status, err.exit_code, err.to_body()["error"]) == (503, 13, "spill_limit")
        # the same connection still reads and writes
        assert wh.query("SELECT count(*) FROM t") == [(ROWS,)]
        with wh.transaction() as cur:
            cur.execute("CREATE TABLE after_spill AS SELECT 1 AS x")
        assert wh.query("SELECT x FROM after_spill") == [(1,)]
        # inside a write transaction: rolled back whole, reported the same way
        with pytest.raises(SpillLimit), wh.transaction() as cur:
            cur.execute("INSERT INTO after_spill VALUES (2)")
            cur.execute(f"CREATE TABLE spilled AS {sql}")
        assert wh.query("SELECT x FROM after_spill") == [(1,)]
        assert wh.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'spilled'") == [(0,)]
    finally:
        wh.close()
    # the cap, not the memory limit, stopped it: with room to spill the same query runs
    wide = _filled(path, max_spill=4 << 30)
    try:
        assert wide.query_arrow(sql).num_rows > 0
    finally:
        wide.close()


def test_the_setting_reaches_the_warehouse(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "var", warehouse_max_spill="3MiB")
    wh = Warehouse.for_settings(s)
    try:
        assert wh.max_spill == 3 << 20
        assert wh.query("SELECT current_setting('max_temp_directory_size')") == [("3.0 MiB",)]
        assert wh.temp_directory == tmp_path / "var" / "warehouse" / "spill"
    finally:
        Warehouse.close_for(s)
    auto = Warehouse(tmp_path / "auto" / "precinct.duckdb")  # auto: half the free disk at open
    try:
        assert auto.max_spill is not None and auto.max_spill >= 256 << 20
    finally:
        auto.close()


@pytest.mark.parametrize(("text", "want"), [
    ("auto", None), ("20GiB", 20 << 30), ("500MB", 500 * 10**6), ("1.5", int(1.5 * 2**30)), ("0", 0),
    (" 64 mib ", 64 << 20),
])
def test_spill_sizes(text: str, want: int | None) -> None:
    assert Settings(warehouse_max_spill=text).warehouse_max_spill_bytes == want


@pytest.mark.parametrize("text", ["lots", "-1GiB", "10 GB free", ""])
def test_bad_spill_sizes_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="PRECINCT_WAREHOUSE_MAX_SPILL"):
        Settings(warehouse_max_spill=text)


def test_the_readme_documents_the_setting() -> None:
    table = (ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^\| `PRECINCT_WAREHOUSE_MAX_SPILL` \| `auto` \|", table, re.MULTILINE)
