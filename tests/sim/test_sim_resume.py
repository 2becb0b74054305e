"""One file per day, a manifest, and a resumed run that writes the same bytes as an uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from precinct.errors import BadInput
from precinct.sim import generate_days
from precinct.sim.generate import generate

from .conftest import DAYS, READS_PER_DAY, SEED, DataSet


class Stop(Exception):
    """Stands for the process being killed."""


def _files(out: Path) -> dict[str, bytes]:
    # The checkpoint is the run's own scratch state (a zip with the time it was written in it).
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != generate_days.CHECKPOINT
    }


@pytest.fixture(scope="module")
def by_day(tmp_path_factory: pytest.TempPathFactory, city: Any) -> Path:
    out = tmp_path_factory.mktemp("sim_days")
    generate(out, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, by_day=True)
    return out


def test_days_hold_the_same_reads_as_one_file(by_day: Path, dataset: DataSet) -> None:
    manifest = json.loads((by_day / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] and manifest["days_done"] == DAYS
    parts = [pq.read_table(by_day / f["file"]) for f in manifest["files"]]
    assert [p.num_rows for p in parts] == [f["rows"] for f in manifest["files"]]
    days = pa.concat_tables(parts)
    one = pq.read_table(dataset.out / "reads.parquet")
    assert days.equals(one)
    assert manifest["rows"] == one.num_rows
    # Every file holds exactly its own local day (UTC+8).
    for f, part in zip(manifest["files"], parts, strict=True):
        local_days = {str(d)[:10] for d in part["ts"].cast(pa.timestamp("ms", tz="+08:00")).to_pylist()}
        assert local_days <= {Path(f["file"]).stem}
    assert (by_day / "truth.json").read_bytes() == (dataset.out / "truth.json").read_bytes()
    assert not (by_day / "reads.parquet").exists()


def test_killed_after_writing_a_day_then_resumed(
    by_day: Path, tmp_path: Path, city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = generate_days._checkpoint

    def dies_at_day_two(out: Path, done: int, *args: Any) -> None:
        if done == 2:  # day 1's file is written, its checkpoint is not
            raise Stop
        real(out, done, *args)

    monkeypatch.setattr(generate_days, "_checkpoint", dies_at_day_two)
    with pytest.raises(Stop):
        generate(tmp_path, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, by_day=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["days_done"] == 1 and not manifest["complete"]
    assert len(list((tmp_path / "reads").glob("*.parquet"))) == 2
    assert not (tmp_path / "truth.json").exists()
    monkeypatch.setattr(generate_days, "_checkpoint", real)
    done = []
    generate(tmp_path, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, resume=True,
             progress=lambda stage, d, _t: done.append(d) if stage == "writing reads" else None)
    assert done == list(range(1, DAYS)), "resumed at the first day not checkpointed"
    assert _files(tmp_path) == _files(by_day)


def test_interrupted_twice_between_days(by_day: Path, tmp_path: Path, city: Any) -> None:
    for stop_at in (1, 2):

        def interrupt(stage: str, day: int, _total: int, stop_at: int = stop_at) -> None:
            if stage == "writing reads" and day == stop_at:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            generate(tmp_path, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, resume=True,
                     progress=interrupt)
        assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["days_done"] == stop_at
    generate(tmp_path, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, resume=True)
    assert _files(tmp_path) == _files(by_day)
    # Resuming a finished run writes nothing new and leaves the same bytes.
    generate(tmp_path, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, resume=True)
    assert _files(tmp_path) == _files(by_day)


def test_resume_refuses_other_parameters(by_day: Path, tmp_path: Path, city: Any) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        generate(out, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, by_day=True,
                 progress=lambda s, d, _t: (_ for _ in ()).throw(KeyboardInterrupt) if d == 1 else None)
    with pytest.raises(BadInput, match="seed"):
        generate(out, days=DAYS, seed=SEED + 1, reads_per_day=READS_PER_DAY, city=city, resume=True)
    # Starting over without --resume is allowed and replaces the partial run.
    generate(out, days=DAYS, seed=SEED, reads_per_day=READS_PER_DAY, city=city, by_day=True)
    assert _files(out) == _files(by_day)


def test_csv_needs_one_file(tmp_path: Path, city: Any) -> None:
    with pytest.raises(BadInput, match="--by-day"):
        generate(tmp_path, days=1, seed=SEED, reads_per_day=READS_PER_DAY, city=city, csv=True, by_day=True)
