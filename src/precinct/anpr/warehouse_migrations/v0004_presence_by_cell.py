"""0004 presence by cell: rebuild the presence table from the stored reads, in (day, cell, vehicle)
order, so a scene's look-back is read without a whole-history index.

From this release the association's rarity is counted, in a process that has not built the
in-memory presence index (every fresh process but the server), straight from ``anpr_presence``:
the look-back's days and the scene's cells only, which DuckDB's per-row-group min/max of ``day``,
``cy`` and ``cx`` find when the rows are in that order. Ingest writes each chunk's rows in that
order from now on; this migration rewrites the rows written before it, recomputed from
``anpr_reads`` (the distinct vehicle, UTC day, 0.001° cell and batch of every stored read, as
ingest writes them). The recomputation also brings back the presence of reads an earlier
retention kept (hotlist hits, case pins) but dropped from the table, so the table is again
exactly the presence of the stored reads. The state's version and epoch move on, so an index
built from the old rows is rebuilt.
"""

from __future__ import annotations

import duckdb

VERSION = 4
NAME = "presence_by_cell"

_REBUILD = """
CREATE TEMP TABLE _presence_rebuilt AS
    SELECT DISTINCT r.plate, (r.ts_us // 86400000000)::INTEGER AS day,
           floor(r.lat * 1000)::INTEGER AS cy, floor(r.lon * 1000)::INTEGER AS cx, r.batch, v.vid
    FROM anpr_reads r JOIN anpr_vehicles v ON v.plate = r.plate;
DELETE FROM anpr_presence;
INSERT INTO anpr_presence SELECT * FROM _presence_rebuilt ORDER BY day, cy, cx, vid, batch;
DROP TABLE _presence_rebuilt;
UPDATE anpr_presence_state SET version = version + 1, epoch = epoch + 1;
"""


def upgrade(cur: duckdb.DuckDBPyConnection) -> None:
    """Recompute ``anpr_presence`` from ``anpr_reads`` in (day, cy, cx, vid) order."""
    cur.execute(_REBUILD).fetchall()
