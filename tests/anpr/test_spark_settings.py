"""`--engine spark` takes its master from PRECINCT_SPARK_MASTER (no JVM: the engine is a stand-in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from precinct.anpr import cli
from precinct.config import Settings, get_settings
from precinct.core import warehouse
from precinct.errors import BadInput


class _Recorder:
    """Stands in for SparkEngine: records the master and the registered Parquet folders."""

    made: list[_Recorder] = []  # noqa: RUF012 - a test's record

    def __init__(self, master: str | None = None, *args: Any, **kwargs: Any) -> None:
        self.master = master
        self.views: dict[str, Path] = {}
        _Recorder.made.append(self)

    def register_parquet(self, name: str, path: Path) -> None:
        self.views[name] = path


def _export(root: Path, *, links_files: bool) -> None:
    (root / "anpr_reads" / "day=1").mkdir(parents=True)
    (root / "anpr_reads" / "day=1" / "data_0.parquet").write_bytes(b"")
    (root / "anpr_links").mkdir()
    if links_files:
        (root / "anpr_links" / warehouse.EMPTY_PARQUET).write_bytes(b"")


def test_default_master_is_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRECINCT_SPARK_MASTER", raising=False)
    assert Settings().spark_master == "local[2]"


def test_engine_uses_the_configured_master(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRECINCT_SPARK_MASTER", "spark://10.0.0.5:7077")
    get_settings.cache_clear()
    s = get_settings()
    _export(Path(s.data_dir) / "warehouse" / "parquet", links_files=True)
    monkeypatch.setattr(warehouse, "SparkEngine", _Recorder)
    _Recorder.made.clear()
    engine = cli._engine("spark", s)
    (made,) = _Recorder.made
    assert made.master == "spark://10.0.0.5:7077"
    assert set(made.views) == {"anpr_reads", "anpr_links"}
    assert engine.spark is made


def test_engine_refuses_an_export_folder_without_files(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _export(Path(settings.data_dir) / "warehouse" / "parquet", links_files=False)
    monkeypatch.setattr(warehouse, "SparkEngine", _Recorder)
    with pytest.raises(BadInput, match="anpr_links holds no file: run `precinct anpr export` again"):
        cli._engine("spark", settings)
