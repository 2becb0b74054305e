"""Investigative queries, defined once as SQL text that DuckDB and Spark SQL both run.

Each builder returns a :class:`Query`: SQL in the subset the two engines share (no
engine-specific functions, literals inlined and escaped, no list aggregates) plus the small Arrow
tables it refers to (a watchlist, a scene list). ``run(query, engine)`` executes it on either
:class:`DuckEngine` (the embedded warehouse) or :class:`SparkQueryEngine` (PySpark over the
Parquet export) and returns rows as tuples; the Python post-processing (scores already come from
SQL; lists are gathered here) is shared too.

Times are epoch microseconds (``ts_us``) throughout the SQL so both engines compare integers.

Layout: the engines are here; the query type and the one place where values become SQL text are
:mod:`precinct.anpr.sqltext`; the builders are :mod:`precinct.anpr.queries_area` (association,
series) and :mod:`precinct.anpr.queries_vehicle` (trajectory, next cameras, convoy, cloned plates,
person links), all importable from here.
"""

from __future__ import annotations

from typing import Any

from precinct.anpr import presence
from precinct.anpr.queries_area import (
    ASSOC_COLUMNS,
    SERIES_COLUMNS,
    W_RARITY,
    W_SPACE,
    W_TIME,
    AssociateQuery,
    Scene,
    SeriesQuery,
    associate,
    scanned_reads,
    series,
    window_sql,
)
from precinct.anpr.queries_vehicle import (
    CLONE_COLUMNS,
    CONVOY_COLUMNS,
    CONVOY_PLACE_COLUMNS,
    PMV_COLUMNS,
    TRAJ_COLUMNS,
    cloned,
    convoy,
    convoy_places,
    next_cameras,
    person_links,
    person_many_vehicles,
    trajectory,
)
from precinct.anpr.sqltext import (
    DAY_US,
    EARTH_KM,
    KM_PER_DEG,
    LINKS,
    READS,
    Query,
    QueryEngine,
    bbox,
    cell_centre,
    check_scene,
    distance_km,
    lit,
    num,
    plate_table,
)

__all__ = [
    "ASSOC_COLUMNS", "CLONE_COLUMNS", "CONVOY_COLUMNS", "CONVOY_PLACE_COLUMNS", "DAY_US", "EARTH_KM", "KM_PER_DEG",
    "LINKS", "PMV_COLUMNS", "READS", "SERIES_COLUMNS", "TRAJ_COLUMNS", "W_RARITY", "W_SPACE", "W_TIME",
    "AssociateQuery", "DuckEngine", "Query", "QueryEngine", "Scene", "SeriesQuery", "SparkQueryEngine", "associate",
    "bbox", "cell_centre", "check_scene", "cloned", "convoy", "convoy_places", "distance_km", "lit", "next_cameras",
    "num", "person_links", "person_many_vehicles", "plate_table", "scanned_reads", "series", "trajectory",
    "window_sql",
]


class DuckEngine:
    """Runs queries on the embedded DuckDB warehouse."""

    def __init__(self, warehouse: Any) -> None:
        self.warehouse = warehouse
        presence.ensure(warehouse)

    def run(self, query: Query) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.warehouse.query(query.sql, tables=query.tables)
        return rows


class SparkQueryEngine:
    """Runs the same queries on Spark; ``anpr_reads``/``anpr_links`` must be registered views."""

    def __init__(self, spark_engine: Any) -> None:
        self.spark = spark_engine
        self._views = False

    def run(self, query: Query) -> list[tuple[Any, ...]]:
        if not self._views:  # the query-side projections, as views over anpr_reads
            for name, sql in presence.SPARK_VIEWS.items():  # names and text are constants
                self.spark.spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            self._views = True
        for name, table in query.tables.items():
            self.spark.register_arrow(name, table)
        rows: list[tuple[Any, ...]] = self.spark.query(query.sql)
        return rows
