"""0003 presence projections: build the query-side tables from the stored reads where they are
missing or in an older layout.

Carries the start-up check and drop-and-rebuild of :mod:`precinct.anpr.presence` in the releases
before versioning: a warehouse whose projections are absent (reads stored before they existed), or
lack the state table or the ``camera_id``/``vid`` columns of the time-ordered copy, has them
dropped and rebuilt, in this migration's transaction, from every stored read: vehicle ids in plate
order, the time-ordered copy, and one presence row per vehicle, UTC day and 0.001° cell. A no-op
where they are current (every warehouse that 0001 created).
"""

from __future__ import annotations

import duckdb

VERSION = 3
NAME = "presence_projections"

_TABLES = ("anpr_reads_by_time", "anpr_presence", "anpr_vehicles", "anpr_presence_state")

_REBUILD = """
CREATE TABLE anpr_vehicles (vid INTEGER NOT NULL, plate VARCHAR NOT NULL);
CREATE TABLE anpr_reads_by_time (
    rid BIGINT NOT NULL, ts_us BIGINT NOT NULL, lat DOUBLE NOT NULL, lon DOUBLE NOT NULL,
    plate VARCHAR NOT NULL, camera_id VARCHAR, vid INTEGER NOT NULL
);
CREATE TABLE anpr_presence (
    plate VARCHAR NOT NULL, day INTEGER NOT NULL, cy INTEGER NOT NULL, cx INTEGER NOT NULL,
    batch BIGINT NOT NULL, vid INTEGER NOT NULL
);
CREATE TABLE anpr_presence_state (version BIGINT NOT NULL, epoch BIGINT NOT NULL);
INSERT INTO anpr_counters VALUES ('vid', 0) ON CONFLICT DO NOTHING;
INSERT INTO anpr_vehicles
    SELECT ((SELECT value FROM anpr_counters WHERE name = 'vid') + row_number() OVER (ORDER BY plate))::INTEGER,
           plate
    FROM (SELECT DISTINCT plate FROM anpr_reads);
UPDATE anpr_counters SET value = value + (SELECT count(*) FROM anpr_vehicles) WHERE name = 'vid';
INSERT INTO anpr_reads_by_time
    SELECT r.rid, r.ts_us, r.lat, r.lon, r.plate, r.camera_id, v.vid
    FROM anpr_reads r JOIN anpr_vehicles v ON v.plate = r.plate ORDER BY r.ts_us;
INSERT INTO anpr_presence
    SELECT DISTINCT r.plate, (r.ts_us // 86400000000)::INTEGER AS day,
           floor(r.lat * 1000)::INTEGER AS cy, floor(r.lon * 1000)::INTEGER AS cx, r.batch, v.vid
    FROM anpr_reads r JOIN anpr_vehicles v ON v.plate = r.plate ORDER BY 5, 1;
INSERT INTO anpr_presence_state VALUES (1, 1);
"""


def current(cur: duckdb.DuckDBPyConnection) -> bool:
    """The projections exist in the layout of 0001 (state table, ``camera_id`` and ``vid``)."""
    state = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'anpr_presence_state'"
    ).fetchall()
    cols = cur.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'anpr_reads_by_time' "
        "AND column_name IN ('camera_id', 'vid')"
    ).fetchall()
    return bool(state[0][0]) and int(cols[0][0]) == 2


def upgrade(cur: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the projections from ``anpr_reads`` unless they are current."""
    if current(cur):
        return
    for table in _TABLES:  # an older layout is replaced whole
        cur.execute(f"DROP TABLE IF EXISTS {table}").fetchall()  # names from _TABLES
    cur.execute(_REBUILD).fetchall()
