"""Warehouse migrations: a warehouse written by the previous release upgrades with every read intact.

The fixture warehouse is written with the DDL of the release before versioning (captured below,
verbatim from ``store.SCHEMA`` and ``presence._SCHEMA`` of Precinct 0.1.0) and the statements that
release ran to build its projections; then the current code opens it. The reference answers are
the fixture's own rows (read before the upgrade) and the same queries on a warehouse that ingested
the same reads fresh.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from precinct.anpr import analysis, history, parse, service, store, warehouse_migrations
from precinct.anpr.models import Alert
from precinct.anpr.queries import DuckEngine
from precinct.anpr.warehouse_migrations import MIGRATIONS, Migration
from precinct.cli import app as root
from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.warehouse import Warehouse
from precinct.errors import Conflict, NotReady

from .conftest import DAY_US, HOUR_US, T0_US, ingest_rows, random_reads, to_csv

# --- the previous release (0.1.0), verbatim ---------------------------------------------------------

PREVIOUS_STORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS anpr_reads (
    rid BIGINT NOT NULL,
    plate VARCHAR NOT NULL,
    ts_us BIGINT NOT NULL,
    lat DOUBLE NOT NULL,
    lon DOUBLE NOT NULL,
    camera_id VARCHAR,
    read_id VARCHAR,
    kind VARCHAR NOT NULL,
    confidence FLOAT,
    batch BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS anpr_links (
    person_id VARCHAR NOT NULL,
    plate VARCHAR NOT NULL,
    ts_us BIGINT NOT NULL,
    source VARCHAR,
    batch BIGINT NOT NULL,
    link_id VARCHAR
);
ALTER TABLE anpr_links ADD COLUMN IF NOT EXISTS link_id VARCHAR;
CREATE TABLE IF NOT EXISTS anpr_counters (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO anpr_counters VALUES ('rid', 0), ('batch', 0) ON CONFLICT DO NOTHING;
"""

PREVIOUS_PRESENCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS anpr_vehicles (vid INTEGER NOT NULL, plate VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS anpr_reads_by_time (
    rid BIGINT NOT NULL, ts_us BIGINT NOT NULL, lat DOUBLE NOT NULL, lon DOUBLE NOT NULL,
    plate VARCHAR NOT NULL, camera_id VARCHAR, vid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS anpr_presence (
    plate VARCHAR NOT NULL, day INTEGER NOT NULL, cy INTEGER NOT NULL, cx INTEGER NOT NULL,
    batch BIGINT NOT NULL, vid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS anpr_presence_state (version BIGINT NOT NULL, epoch BIGINT NOT NULL);
INSERT INTO anpr_counters VALUES ('vid', 0) ON CONFLICT DO NOTHING;
"""

# presence._backfill of 0.1.0 with its f-strings expanded (n = distinct plates, reserved from 'vid')
PREVIOUS_BACKFILL = [
    "UPDATE anpr_counters SET value = value + (SELECT count(DISTINCT plate) FROM anpr_reads) WHERE name = 'vid'",
    "INSERT INTO anpr_vehicles SELECT (0 + row_number() OVER (ORDER BY plate))::INTEGER, plate "
    "FROM (SELECT DISTINCT plate FROM anpr_reads s "
    "WHERE NOT EXISTS (SELECT 1 FROM anpr_vehicles v WHERE v.plate = s.plate))",
    "INSERT INTO anpr_reads_by_time SELECT rid, ts_us, lat, lon, plate, camera_id, vid FROM "
    "(SELECT s.*, v.vid FROM anpr_reads s JOIN anpr_vehicles v ON v.plate = s.plate) ORDER BY ts_us",
    "INSERT INTO anpr_presence SELECT DISTINCT plate, (ts_us // 86400000000)::INTEGER AS day, "
    "floor(lat * 1000)::INTEGER AS cy, floor(lon * 1000)::INTEGER AS cx, batch AS batch, vid FROM "
    "(SELECT s.*, v.vid FROM anpr_reads s JOIN anpr_vehicles v ON v.plate = s.plate) ORDER BY batch, plate",
    "DELETE FROM anpr_presence_state",
    "INSERT INTO anpr_presence_state VALUES (1, 1)",
]

# an older warehouse still: links without ids, reads stored before the projections existed
OLDER_STORE_SCHEMA = PREVIOUS_STORE_SCHEMA.replace(",\n    link_id VARCHAR\n", "\n").replace(
    "ALTER TABLE anpr_links ADD COLUMN IF NOT EXISTS link_id VARCHAR;\n", ""
)

TABLES = ("anpr_reads", "anpr_links", "anpr_reads_by_time", "anpr_presence", "anpr_vehicles")
ORDER = {"anpr_reads": "rid", "anpr_links": "ts_us, person_id", "anpr_reads_by_time": "rid",
         "anpr_presence": "vid, day, cy, cx", "anpr_vehicles": "vid"}

runner = CliRunner()


def _path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "warehouse" / "precinct.duckdb"


def _links(rows: list[dict[str, Any]], with_ids: bool) -> list[tuple[Any, ...]]:
    out = []
    for i, r in enumerate(rows[:40]):
        ts = T0_US + i * HOUR_US
        person = f"P{i % 7}"
        out.append((person, r["plate"], ts, "dmv", 1, f"L{i}") if with_ids else (person, r["plate"], ts, "dmv", 1))
    return out


def write_previous_release(path: Path, rows: list[dict[str, Any]], *, layout: str = "previous") -> None:
    """A warehouse as the release before versioning left it (``older``: before projections and link ids)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(PREVIOUS_STORE_SCHEMA if layout == "previous" else OLDER_STORE_SCHEMA)
        cur = con.cursor()
        cur.execute("BEGIN TRANSACTION")
        batch = store.next_counter(cur, "batch")
        for chunk in parse.parse_csv(to_csv(rows)):
            canon, rejects = parse.validate(chunk, cameras={})
            assert not rejects
            store.append_chunk(cur, canon, batch_id=batch)
        links = _links(rows, with_ids=layout == "previous")
        cur.executemany(f"INSERT INTO anpr_links VALUES ({', '.join('?' * len(links[0]))})", links)
        if layout == "previous":
            cur.execute(PREVIOUS_PRESENCE_SCHEMA)
            for sql in PREVIOUS_BACKFILL:
                cur.execute(sql)
        cur.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _snapshot(con: Any, tables: tuple[str, ...] = TABLES) -> dict[str, list[tuple[Any, ...]]]:
    query = con.query if isinstance(con, Warehouse) else (lambda sql: con.execute(sql).fetchall())
    return {t: query(f"SELECT * FROM {t} ORDER BY {ORDER[t]}") for t in tables}


def _scene(rows: list[dict[str, Any]]) -> dict[str, Any]:
    t0 = T0_US + 5 * DAY_US + 7 * HOUR_US
    return {"lat": rows[1]["lat"] + 0.002, "lon": rows[1]["lon"], "radius_km": 6.0, "t0_us": t0,
            "t1_us": t0 + 6 * HOUR_US, "watchlist": [rows[2]["plate"]], "lookback_days": 14}


def _answers(wh: Warehouse, rows: list[dict[str, Any]]) -> dict[str, Any]:
    engine = DuckEngine(wh)
    return {
        "associate": analysis.associate(engine, **_scene(rows)),
        "trajectory": analysis.trajectory(engine, plate=rows[3]["plate"], t0_us=T0_US, t1_us=T0_US + 6 * DAY_US,
                                          paths=False),
    }


def _fresh_answers(db: Database, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The same reads ingested by the current code into a new warehouse."""
    wh = Warehouse(":memory:")
    try:
        store.ensure_schema(wh)
        ingest_rows(db, wh, rows)
        return _answers(wh, rows)
    finally:
        wh.close()


def _add_alert(db: Database, rid: int, plate: str, ts_us: int) -> int:
    with db.session() as s:
        alert = Alert(rid=rid, hotlist_id=1, plate=plate, read_at=dt.datetime.fromtimestamp(ts_us / 1e6, dt.UTC),
                      lat=0.0, lon=0.0, camera_id=None, list_name="stolen", reason="test")
        s.add(alert)
        s.flush()
        return int(alert.id)


def test_previous_release_warehouse_upgrades_with_every_read(db: Database, settings: Settings) -> None:
    rows = random_reads(1500, seed=21, plates=60, days=8)
    path = _path(settings)
    write_previous_release(path, rows)
    con = duckdb.connect(str(path))
    before = _snapshot(con)
    rid, plate, ts = con.execute("SELECT rid, plate, ts_us FROM anpr_reads WHERE rid = 18").fetchall()[0]
    con.close()
    alert_id = _add_alert(db, rid, plate, ts)
    assert len(before["anpr_reads"]) == 1500 and before["anpr_presence"] and before["anpr_links"]

    wh = service.warehouse(settings)  # the first use of the warehouse upgrades it (start-up)
    st = warehouse_migrations.status(wh)
    assert (st.version, st.latest, st.pending, st.unversioned) == (4, 4, [], False)
    assert [(a.version, a.name, a.how) for a in st.applied] == [
        (1, "layout", "adopted"), (2, "links_link_id", "applied"), (3, "presence_projections", "applied"),
        (4, "presence_by_cell", "applied")]
    assert _snapshot(wh) == before, "every read, link and projection row survives unchanged"
    with db.sessionmaker() as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        assert wh.query("SELECT plate, ts_us FROM anpr_reads WHERE rid = ?", [alert.rid]) == [(plate, ts)]
    got = _answers(wh, rows)
    assert got["associate"]["candidates"] and got["trajectory"]["reads"], "the answers are not empty"
    assert got == _fresh_answers(db, rows)

    # upgrading twice is a no-op; the warehouse goes on: new rids after the old ones, index current
    assert warehouse_migrations.upgrade(wh) == []
    assert warehouse_migrations.status(wh).applied == st.applied
    more = random_reads(200, seed=22, plates=60, days=8)
    for i, r in enumerate(more):
        r["read_id"] = f"N{i}"
    ingest_rows(db, wh, more)
    new_rids = wh.query("SELECT min(rid), count(*) FROM anpr_reads WHERE read_id LIKE 'N%'")[0]
    assert new_rids == (1501, 200)
    assert history.index_for(wh, build=True).parts


def test_older_warehouse_gains_link_ids_and_projections(db: Database, settings: Settings) -> None:
    rows = random_reads(800, seed=23, plates=50, days=6)
    path = _path(settings)
    write_previous_release(path, rows, layout="older")
    con = duckdb.connect(str(path))
    before = _snapshot(con, ("anpr_reads", "anpr_links"))
    con.close()
    wh = service.warehouse(settings)
    assert warehouse_migrations.status(wh).version == 4
    after = _snapshot(wh, ("anpr_reads", "anpr_links"))
    assert after["anpr_reads"] == before["anpr_reads"]
    assert after["anpr_links"] == [(*r, None) for r in before["anpr_links"]], "old links get a NULL link_id"
    got = wh.query("SELECT rid, ts_us, lat, lon, plate, camera_id FROM anpr_reads_by_time ORDER BY rid")
    assert got == wh.query("SELECT rid, ts_us, lat, lon, plate, camera_id FROM anpr_reads ORDER BY rid")
    assert _answers(wh, rows) == _fresh_answers(db, rows)


def test_fresh_warehouse_runs_every_migration_once(settings: Settings) -> None:
    wh = service.warehouse(settings)
    st = warehouse_migrations.status(wh)
    assert st.version == len(MIGRATIONS) and {a.how for a in st.applied} == {"applied"}
    assert [a.version for a in st.applied] == [m.version for m in MIGRATIONS]
    assert wh.query("SELECT name, value FROM anpr_counters ORDER BY name") == [("batch", 0), ("rid", 0), ("vid", 0)]


def test_a_failing_migration_leaves_the_version_and_the_tables_unchanged(db: Database, wh: Warehouse) -> None:
    ingest_rows(db, wh, random_reads(100, seed=24))

    def broken(cur: duckdb.DuckDBPyConnection) -> None:
        cur.execute("CREATE TABLE half_done (x INTEGER)")
        cur.execute("ALTER TABLE anpr_reads ADD COLUMN colour VARCHAR")
        cur.execute("SELECT no_such_column FROM anpr_reads").fetchall()

    steps = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken", broken))
    with pytest.raises(NotReady, match=f"{len(MIGRATIONS) + 1:04d} broken failed"):
        warehouse_migrations.upgrade(wh, migrations=steps)
    assert warehouse_migrations.status(wh, migrations=steps).version == len(MIGRATIONS)
    assert not wh.query("SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'")[0][0]
    assert "colour" not in [r[0] for r in wh.query("DESCRIBE anpr_reads")]
    assert wh.query("SELECT count(*) FROM anpr_reads")[0][0] == 100


def test_a_newer_warehouse_is_refused(wh: Warehouse) -> None:
    with wh.transaction() as cur:
        cur.execute("INSERT INTO warehouse_schema_version VALUES (99, 'future', now()::TIMESTAMP, '9.0', 'applied')")
    with pytest.raises(Conflict, match="newer than this Precinct"):
        warehouse_migrations.upgrade(wh)


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    with pytest.raises(ValueError, match="numbered"):
        warehouse_migrations.upgrade(Warehouse(":memory:"), migrations=(MIGRATIONS[1],))


def test_cli_status_and_upgrade(db: Database, settings: Settings) -> None:
    with db.session() as s:
        create_user(s, username="wh_admin", role="admin", password="cli-password-1")
        create_user(s, username="wh_dispatcher", role="dispatcher", password="cli-password-1")
    write_previous_release(_path(settings), random_reads(100, seed=25))
    r = runner.invoke(root, ["warehouse", "status", "--as", "wh_admin", "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert (out["version"], out["unversioned"], [p["version"] for p in out["pending"]]) == (0, True, [1, 2, 3, 4])
    r = runner.invoke(root, ["warehouse", "status", "--as", "wh_admin"])
    assert r.exit_code == 0 and "0004" in r.output and "pending" in r.output, r.output
    assert runner.invoke(root, ["warehouse", "upgrade", "--as", "wh_dispatcher"]).exit_code != 0
    r = runner.invoke(root, ["warehouse", "upgrade", "--as", "wh_admin"])
    assert r.exit_code == 0, r.output
    assert "upgraded from version 0 to 4" in r.output
    r = runner.invoke(root, ["warehouse", "upgrade", "--as", "wh_admin"])
    assert r.exit_code == 0 and "nothing to apply" in r.output, r.output
    r = runner.invoke(root, ["warehouse", "status", "--as", "wh_admin", "--format", "json"])
    out = json.loads(r.output)
    assert (out["version"], out["current"], [a["how"] for a in out["applied"]]) == (
        4, True, ["adopted", "applied", "applied", "applied"])
    assert runner.invoke(root, ["warehouse", "status", "--as", "wh_dispatcher"]).exit_code != 0


def test_cli_status_creates_no_warehouse(db: Database, settings: Settings) -> None:
    with db.session() as s:
        create_user(s, username="wh_admin2", role="admin", password="cli-password-1")
    r = runner.invoke(root, ["warehouse", "status", "--as", "wh_admin2", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["version"] == 0
    assert not _path(settings).exists()


def _presence_from_reads(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query(
        "SELECT DISTINCT r.plate, (r.ts_us // 86400000000)::INTEGER, floor(r.lat * 1000)::INTEGER, "
        "floor(r.lon * 1000)::INTEGER, r.batch, v.vid FROM anpr_reads r JOIN anpr_vehicles v ON v.plate = r.plate "
        "ORDER BY ALL"
    )


def test_a_version_3_warehouse_gets_its_presence_in_day_and_cell_order(db: Database, settings: Settings) -> None:
    """0004 on a warehouse of the release before it: presence rows in batch order (as 0003 and
    that release's ingest wrote them), and the presence of reads a retention kept gone (as that
    release's retention left it). After the upgrade: exactly the presence of the stored reads, in
    (day, cy, cx, vid) order, and the answers of a warehouse that ingested the same reads fresh."""
    rows = random_reads(1500, seed=26, plates=60, days=8)
    path = _path(settings)
    write_previous_release(path, rows)
    wh = Warehouse(path)
    try:
        warehouse_migrations.upgrade(wh, migrations=MIGRATIONS[:3])
        assert warehouse_migrations.status(wh).version == 3
        # the release before 0004's retention: kept reads stay, their presence rows went
        kept_day = wh.query("SELECT min(ts_us) // 86400000000 FROM anpr_reads")[0][0]
        with wh.transaction() as cur:
            cur.execute("DELETE FROM anpr_presence WHERE day = ?", [kept_day])
        stale = wh.query("SELECT day, cy, cx, vid FROM anpr_presence ORDER BY rowid")
        assert stale != sorted(stale), "the fixture's rows are not in day and cell order yet"
        assert wh.query("SELECT DISTINCT plate, day, cy, cx, batch, vid FROM anpr_presence ORDER BY ALL") \
            != _presence_from_reads(wh)
        state = wh.query("SELECT version, epoch FROM anpr_presence_state")[0]
        before = _snapshot(wh, ("anpr_reads", "anpr_reads_by_time", "anpr_vehicles"))
        assert [m.version for m in warehouse_migrations.upgrade(wh)] == [4]
        st = warehouse_migrations.status(wh)
        assert (st.version, st.applied[-1].name, st.applied[-1].how) == (4, "presence_by_cell", "applied")
        assert wh.query("SELECT DISTINCT plate, day, cy, cx, batch, vid FROM anpr_presence ORDER BY ALL") \
            == _presence_from_reads(wh)
        assert wh.query("SELECT count(*) FROM anpr_presence")[0][0] == len(_presence_from_reads(wh)), "no duplicates"
        got = wh.query("SELECT day, cy, cx, vid FROM anpr_presence ORDER BY rowid")
        assert got == sorted(got)
        v, e = wh.query("SELECT version, epoch FROM anpr_presence_state")[0]
        assert v > state[0] and e > state[1], "an index built from the old rows is rebuilt"
        assert _snapshot(wh, ("anpr_reads", "anpr_reads_by_time", "anpr_vehicles")) == before
        wh.schemas.add(warehouse_migrations.MARK)
        assert _answers(wh, rows) == _fresh_answers(db, rows)
    finally:
        wh.close()
