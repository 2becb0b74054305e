"""The day loop of ``precinct sim generate``: one simulated day of reads at a time.

Two layouts. ``reads.parquet`` (the default) is one file written as a stream. ``--by-day`` writes
``reads/<local date>.parquet``, one complete file per day, and after each day a checkpoint
(``checkpoint.npz``: the reads that spill past midnight, the next read id, the truth scan's state)
and ``manifest.json`` (the scenario's parameters and the files written so far). An interrupted
by-day run continues with ``--resume`` from the first day not checkpointed; because every day's
random stream is seeded by the day number and the checkpoint holds everything carried from one
day to the next, a resumed run writes the same bytes as an uninterrupted one.

Write order for each day: the day's file (under a temporary name, then renamed), the checkpoint,
the manifest. A crash between two of them leaves at most one day to redo, and redoing it writes
the same file again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from precinct.errors import BadInput
from precinct.sim.rhythm import DAY_S
from precinct.sim.scan import stable_order

if TYPE_CHECKING:
    from precinct.sim.generate import Scenario
    from precinct.sim.scan import Scanner
    from precinct.sim.writer import ReadsWriter

MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.npz"
READS_DIR = "reads"
FORMAT = 1

Chunk = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # ts ms, id index, camera, confidence
Report = Callable[[str, int, int], None]
Rows = Callable[[int], None]
DayReads = Callable[["Scenario", int], Chunk]  # generate.day_reads: background reads of one day


def empty_chunk() -> Chunk:
    return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))


@dataclass(frozen=True)
class Planted:
    """The planted stories' reads (ts ms from the period start, id index, camera) and their day."""

    ts: np.ndarray
    ids: np.ndarray
    cam: np.ndarray
    day: np.ndarray

    @classmethod
    def of(cls, sc: Scenario) -> Planted:
        pl = sc.planter
        ts = np.array(pl.read_ts, dtype=np.int64)
        return cls(ts, np.array(pl.read_plate, dtype=np.int64), np.array(pl.read_cam, dtype=np.int32),
                   ts // (DAY_S * 1000))


def one_day(sc: Scenario, planted: Planted, day: int, spill: Chunk, day_reads: DayReads) -> tuple[Chunk, Chunk]:
    """The reads of local day ``day`` in time order, and those that spill into the next day.

    Parameters
    ----------
    sc
        The scenario.
    planted
        The planted stories' reads.
    day
        Day number from the period start.
    spill
        Reads of earlier days' trips that fall on this day (the previous call's second result).
    day_reads
        The background reads of trips departing on a day (:func:`precinct.sim.generate.day_reads`).
    """
    ts, ids, cam, conf = day_reads(sc, day)
    sel = planted.day == day
    ts = np.concatenate([spill[0], ts, planted.ts[sel]])
    ids = np.concatenate([spill[1], ids, planted.ids[sel]])
    cam = np.concatenate([spill[2], cam.astype(np.int32), planted.cam[sel]])
    conf = np.concatenate([spill[3], conf, np.full(int(sel.sum()), 0.97, np.float32)])
    order = stable_order(ts - int(ts.min())) if ts.size else np.zeros(0, np.int64)
    ts, ids, cam, conf = ts[order], ids[order], cam[order], conf[order]
    horizon_ms = sc.days * DAY_S * 1000
    cut = int(np.searchsorted(ts, min((day + 1) * DAY_S * 1000, horizon_ms)))
    if day == sc.days - 1:
        ts, ids, cam, conf = ts[:cut], ids[:cut], cam[:cut], conf[:cut]
    return (ts[:cut], ids[:cut], cam[:cut], conf[:cut]), (ts[cut:], ids[cut:], cam[cut:], conf[cut:])


def run_stream(
    sc: Scenario, writer: ReadsWriter, scanner: Scanner, day_reads: DayReads, report: Report, rows: Rows
) -> None:
    """Every day into the writer's single ``reads.parquet``."""
    planted = Planted.of(sc)
    spill = empty_chunk()
    try:
        for day in range(sc.days):
            report("writing reads", day, sc.days)
            today, spill = one_day(sc, planted, day, spill, day_reads)
            writer.write(*today)
            scanner.observe(*today[:3])
            rows(writer.rows)
    finally:
        writer.close()


def day_path(out: Path, sc: Scenario, day: int) -> Path:
    """``out/reads/<local date>.parquet`` for day ``day``."""
    date = (sc.start + dt.timedelta(days=day)).date()
    return out / READS_DIR / f"{date:%Y-%m-%d}.parquet"


def run_by_day(
    out: Path,
    sc: Scenario,
    writer: ReadsWriter,
    scanner: Scanner,
    params: dict[str, Any],
    day_reads: DayReads,
    *,
    resume: bool,
    report: Report,
    rows: Rows,
) -> None:
    """Every day into its own file with a checkpoint after each; ``resume`` continues a run.

    Parameters
    ----------
    out
        Output directory.
    sc, writer, scanner
        Scenario, a writer opened with ``single_file=False``, the truth scan.
    params
        The scenario's parameters; a resumed run must have the same ones.
    day_reads
        See :func:`one_day`.
    resume
        Continue from ``out``'s checkpoint (if there is none, start at day 0).
    report, rows
        Progress callbacks: ``report(stage, done, total)`` and ``rows(total reads written)``.

    Raises
    ------
    BadInput
        If ``resume`` and ``out`` holds a run with other parameters.
    """
    (out / READS_DIR).mkdir(parents=True, exist_ok=True)
    planted = Planted.of(sc)
    spill = empty_chunk()
    per_day: list[int] = []
    start_day = 0
    if resume and (out / CHECKPOINT).exists() and (out / MANIFEST).exists():
        old = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if old.get("params") != params:
            diff = sorted(k for k in params.keys() | old.get("params", {}).keys()
                          if params.get(k) != old.get("params", {}).get(k))
            raise BadInput(f"{out} holds a run with other parameters ({', '.join(diff)}); "
                           "use another --out or run without --resume to start over",
                           detail={"field": "resume", "differs": diff})
        with np.load(out / CHECKPOINT) as z:
            state = {k: z[k] for k in z.files}
        start_day = int(state["done"])
        spill = (state["spill_ts"], state["spill_ids"], state["spill_cam"], state["spill_conf"])
        per_day = state["rows_per_day"].tolist()
        writer.next_id = int(state["next_id"])
        writer.rows = int(state["rows"])
        scanner.restore({k[5:]: v for k, v in state.items() if k.startswith("scan_")})
    else:
        (out / CHECKPOINT).unlink(missing_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)
    # Files from days not checkpointed (a stopped run; or a former run over a longer period).
    stale = {day_path(out, sc, d).name for d in range(start_day)}
    for f in (out / READS_DIR).iterdir():
        if f.name not in stale and (f.suffix == ".parquet" or f.name.endswith(".parquet.tmp")):
            f.unlink()
    rows(writer.rows)
    _write_manifest(out, sc, params, per_day)
    for day in range(start_day, sc.days):
        report("writing reads", day, sc.days)
        today, spill = one_day(sc, planted, day, spill, day_reads)
        writer.write_file(day_path(out, sc, day), *today)
        scanner.observe(*today[:3])
        per_day.append(int(today[0].size))
        _checkpoint(out, day + 1, spill, writer, scanner, per_day)
        _write_manifest(out, sc, params, per_day)
        rows(writer.rows)


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _checkpoint(out: Path, done: int, spill: Chunk, writer: ReadsWriter, scanner: Scanner, per_day: list[int]) -> None:
    arrays = {f"scan_{k}": v for k, v in scanner.state().items()}
    arrays.update(
        done=np.array(done, np.int64),
        next_id=np.array(writer.next_id, np.int64),
        rows=np.array(writer.rows, np.int64),
        rows_per_day=np.array(per_day, np.int64),
        spill_ts=spill[0],
        spill_ids=spill[1],
        spill_cam=spill[2],
        spill_conf=spill[3],
    )
    tmp = out / (CHECKPOINT + ".tmp")
    with tmp.open("wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out / CHECKPOINT)


def _write_manifest(out: Path, sc: Scenario, params: dict[str, Any], per_day: list[int]) -> None:
    first = 1
    files = []
    for day, n in enumerate(per_day):
        files.append({"day": day, "file": str(day_path(out, sc, day).relative_to(out)), "rows": n,
                      "first_read_id": first})
        first += n
    doc = {
        "format": FORMAT,
        "params": params,
        "days_done": len(per_day),
        "complete": len(per_day) == sc.days,
        "rows": first - 1,
        "files": files,
    }
    _atomic(out / MANIFEST, (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode())
