"""0001 layout: the plate-read warehouse as it stood when versioning began, created from scratch.

Reads (``anpr_reads``), person–vehicle links (``anpr_links``), the id counters, and the query-side
projections of :mod:`precinct.anpr.presence` (vehicle dictionary, time-ordered copy, presence
cells, and their state row). A warehouse written by a release before versioning already has these
tables (in this or an older form): it is *adopted* at this version without running it, and the
later migrations bring its older forms up to date.

Frozen: a migration states the schema of its time and never imports the code that uses it.
"""

from __future__ import annotations

import duckdb

VERSION = 1
NAME = "layout"

DDL = """
CREATE TABLE anpr_reads (
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
CREATE TABLE anpr_links (
    person_id VARCHAR NOT NULL,
    plate VARCHAR NOT NULL,
    ts_us BIGINT NOT NULL,
    source VARCHAR,
    batch BIGINT NOT NULL,
    link_id VARCHAR
);
CREATE TABLE anpr_counters (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO anpr_counters VALUES ('rid', 0), ('batch', 0), ('vid', 0);
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
INSERT INTO anpr_presence_state VALUES (1, 1);
"""


def upgrade(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the layout in an empty warehouse (inside the runner's transaction)."""
    cur.execute(DDL).fetchall()
