"""0002 links.link_id: the sender's id of a person–vehicle link (links are stored once per id).

Carries the start-up ``ALTER TABLE anpr_links ADD COLUMN IF NOT EXISTS link_id`` of the releases
before versioning: a warehouse from before links had ids gains the column (NULL for its links,
which stay deduplicated by (person_id, plate, ts_us)). A no-op where the column exists.
"""

from __future__ import annotations

import duckdb

VERSION = 2
NAME = "links_link_id"


def upgrade(cur: duckdb.DuckDBPyConnection) -> None:
    """Add ``anpr_links.link_id`` where it is missing."""
    cur.execute("ALTER TABLE anpr_links ADD COLUMN IF NOT EXISTS link_id VARCHAR").fetchall()
