"""The same query definitions on PySpark give DuckDB's results, in local mode and on a Spark
standalone cluster (a master and a worker started with Spark's own launcher, once per session)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from precinct.anpr import queries, service
from precinct.anpr.queries import DuckEngine, Scene, SparkQueryEngine
from precinct.core.db import Database
from precinct.core.warehouse import EMPTY_PARQUET, SparkEngine, Warehouse

from .conftest import DAY_US, HOUR_US, T0_US, ingest_rows, iso, random_reads

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="PySpark needs a Java runtime (java not on PATH)"),
]

# the driver listens on loopback so the cluster's executor reaches it whatever the host name says
LOOPBACK = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.executor.memory": "768m"}


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone master and one worker (1 core, 1 GiB) for the whole test session."""
    from precinct.core.sparkcluster import StandaloneCluster

    with StandaloneCluster(tmp_path_factory.mktemp("spark-cluster"), workers=1, cores=1, memory="1g") as cluster:
        yield cluster.url


@pytest.fixture(params=["local", "cluster"])
def spark(request: pytest.FixtureRequest) -> Iterator[SparkEngine]:
    """A Spark engine in local mode, then one on the standalone cluster."""
    master = "local[2]" if request.param == "local" else request.getfixturevalue("spark_cluster")
    engine = SparkEngine(master, conf=LOOPBACK)
    assert engine.spark.sparkContext.master == master
    try:
        yield engine
    finally:
        engine.stop()


def _norm(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out = []
    for r in rows:
        out.append(
            tuple(
                round(float(v), 4)
                if isinstance(v, float)
                else (int(v) if hasattr(v, "is_integer") and not isinstance(v, float) else v)
                for v in r
            )
        )
    return out


def test_spark_and_duckdb_agree(db: Database, wh: Warehouse, tmp_path: Path, spark: SparkEngine) -> None:
    rows = random_reads(2500, seed=21, plates=150, days=6)
    for i, cam in enumerate(["CAM001", "CAM002", "CAM003"]):
        t = T0_US + DAY_US + i * 600_000_000
        rows.append({"plate": "TGT", "ts": iso(t), "lat": 31.3, "lon": 120.6, "camera_id": cam})
        rows.append(
            {"plate": "FOL", "ts": iso(t + 10_000_000), "lat": 31.3, "lon": 120.6, "camera_id": cam}
        )
    ingest_rows(db, wh, rows)
    links = tmp_path / "links.csv"
    links.write_text(
        "person_id,plate,ts,source\n"
        + "".join(f"P{i % 3},T{i % 7},{iso(T0_US + i * 4 * HOUR_US)},x\n" for i in range(40)),
        encoding="utf-8",
    )
    service.import_links(db=db, wh=wh, path=links, actor="t", role="admin")
    out = tmp_path / "parquet"
    wh.export_parquet("anpr_reads", out / "anpr_reads")
    wh.export_parquet("anpr_links", out / "anpr_links")
    lat, lon = rows[0]["lat"], rows[0]["lon"]
    qs = [
        queries.associate(
            lat=lat,
            lon=lon,
            radius_km=4,
            t0_us=T0_US + 2 * DAY_US,
            t1_us=T0_US + 3 * DAY_US,
            watchlist=[rows[0]["plate"], rows[9]["plate"]],
            lookback_days=3,
        ),
        queries.scanned_reads(lat=lat, lon=lon, radius_km=4, t0_us=T0_US, t1_us=T0_US + 6 * DAY_US),
        queries.series(
            scenes=[
                Scene("A", lat, lon, T0_US, T0_US + 3 * DAY_US, 3),
                Scene("B", rows[5]["lat"], rows[5]["lon"], T0_US + DAY_US, T0_US + 5 * DAY_US, 3),
                Scene("C'x", rows[7]["lat"], rows[7]["lon"], T0_US, T0_US + 6 * DAY_US, 2),
            ],
            min_cases=2,
        ),
        queries.trajectory(plate=rows[0]["plate"], t0_us=T0_US, t1_us=T0_US + 6 * DAY_US),
        queries.next_cameras(camera_id=rows[3]["camera_id"], before_us=T0_US + 4 * DAY_US),
        queries.convoy(plate="TGT", t0_us=T0_US, t1_us=T0_US + 6 * DAY_US, min_cameras=2),
        queries.convoy_places(plate="TGT", plates=["FOL", rows[1]["plate"]], t0_us=T0_US, t1_us=T0_US + 6 * DAY_US),
        queries.cloned(t0_us=T0_US, t1_us=T0_US + 6 * DAY_US, max_speed_kmh=40),
        queries.person_many_vehicles(min_vehicles=2, days=1),
    ]
    duck = DuckEngine(wh)
    spark.register_parquet("anpr_reads", out / "anpr_reads")
    spark.register_parquet("anpr_links", out / "anpr_links")
    sq = SparkQueryEngine(spark)
    for q in qs:
        d, s = _norm(duck.run(q)), _norm(sq.run(q))
        assert d, f"query gave nothing to compare:\n{q.sql}"
        assert d == s, f"engines disagree on:\n{q.sql}\nduckdb {d[:3]}\nspark  {s[:3]}"


def test_export_without_links_is_readable_by_spark(db: Database, wh: Warehouse, tmp_path: Path) -> None:
    """Reads but no person-vehicle links: the links export carries its schema in one zero-row file
    (an empty folder made Spark fail with UNABLE_TO_INFER_SCHEMA), and a later export with rows
    replaces it; the link queries then answer nothing on both engines."""
    rows = random_reads(200, seed=5, plates=20, days=2)
    ingest_rows(db, wh, rows)
    out = tmp_path / "parquet"
    wh.export_parquet("anpr_reads", out / "anpr_reads")
    wh.export_parquet("anpr_links", out / "anpr_links")
    assert [p.name for p in (out / "anpr_links").rglob("*.parquet")] == [EMPTY_PARQUET]
    assert not (out / "anpr_reads" / EMPTY_PARQUET).exists()
    q = queries.person_many_vehicles(min_vehicles=2, days=1)
    engine = SparkEngine("local[1]", conf=LOOPBACK)
    try:
        engine.register_parquet("anpr_reads", out / "anpr_reads")
        engine.register_parquet("anpr_links", out / "anpr_links")
        assert SparkQueryEngine(engine).run(q) == DuckEngine(wh).run(q) == []
        days = {(T0_US + d * DAY_US) // DAY_US for d in range(3)}
        count = "SELECT count(*) FROM anpr_reads"
        assert engine.query(count) == wh.query(count)
        assert {r[0] for r in engine.query("SELECT DISTINCT day FROM anpr_reads")} <= days
    finally:
        engine.stop()
    links = tmp_path / "links.csv"
    links.write_text(f"person_id,plate,ts,source\nP1,{rows[0]['plate']},{rows[0]['ts']},x\n", encoding="utf-8")
    service.import_links(db=db, wh=wh, path=links, actor="t", role="admin")
    wh.export_parquet("anpr_links", out / "anpr_links")
    assert EMPTY_PARQUET not in [p.name for p in (out / "anpr_links").rglob("*.parquet")]
    assert len(list((out / "anpr_links").rglob("*.parquet"))) == 1
