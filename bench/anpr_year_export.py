"""The Parquet export of a whole county-year, without ever holding its warehouse (issue 23).

    nice -n 19 .venv/bin/python bench/anpr_year_export.py --gen /tmp/anpr1b/gen \\
        --work /tmp/anpr1b/chunks --out /tmp/anpr1b/export --follow --delete-imported \\
        --worker 0 --workers 2      # and the same with --worker 1, at the same time

``precinct anpr export`` (``Warehouse.export_parquet``) writes ``anpr_reads`` as Parquet partitioned
by UTC day. A county-year's warehouse is 54 GiB, its export about 23 GiB: both do not fit this disk
beside each other. This step builds the same export a chunk of generated days at a time: the
chunk's daily files are imported into a fresh warehouse by the import's own service
(``service.ingest``, as ``bench/anpr_county_year.py import`` does, without a hotlist), that
warehouse is exported by ``Warehouse.export_parquet`` itself, its ``day=D/*.parquet`` files are
moved into ``<out>/anpr_reads/day=D/`` under a name prefixed with the chunk (a UTC day that spans
two chunks' files gets one file from each), then the chunk's warehouse and (``--delete-imported``)
its generated files are removed. ``<out>/anpr_links`` is the (empty) links export.

Counters: before a chunk's import, the warehouse's ``rid`` and ``batch`` counters are set to where
one warehouse importing every file in order would have them (``rid``: the manifest's first read
number of the chunk minus one, as no read is a duplicate or rejected; ``batch``: the chunk's first
file number), so ``rid`` and ``batch`` in the export follow one import of the whole year. The
association, series and trajectory queries read plate, ts_us, lat, lon, camera_id, kind and
confidence; ``rid`` only orders a trajectory's reads of the same microsecond and is returned by it,
and ``batch`` only enters the presence view's ``DISTINCT``, under a ``count(DISTINCT day)``.

Resumable: a chunk is done when ``<out>/chunks/c<NNN>.json`` exists (written after its files are in
place); a chunk interrupted before is redone from its generated files (its moved files, if any,
are replaced). Chunks are dealt round-robin to ``--workers`` processes (one import uses about one
core). Before a chunk the free disk must stay above ``--min-free-gb`` after the chunk's expected
warehouse and export, or the worker stops and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import anpr_bench as ab
from anpr_county_year import du_gb, free_gb, past, peak_rss_mib

WAREHOUSE_BYTES_PER_READ = 64  # the chunk's warehouse (58 measured at 1B) plus margin
EXPORT_BYTES_PER_READ = 26  # the export (24.7 measured at 1B) plus margin


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg} (load {os.getloadavg()[0]:.1f})", flush=True)


def manifest(gen: Path, follow: bool) -> dict[str, Any]:
    while not (gen / "manifest.json").exists():
        if not follow:
            raise SystemExit(f"no manifest.json in {gen}")
        time.sleep(10)  # the generator writes its manifest once the scenario is built
    doc: dict[str, Any] = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    return doc


def export_chunk(args: argparse.Namespace, ci: int, files: list[dict[str, Any]]) -> dict[str, Any]:
    """Import ``files`` into a fresh warehouse, export it, move the day files into place."""
    from precinct.anpr import service
    from precinct.core.warehouse import Warehouse

    tag = f"c{ci:03d}"
    work = args.work / tag
    shutil.rmtree(work, ignore_errors=True)
    t, cpu = time.perf_counter(), time.process_time()
    settings, db = ab.setup_dir(work / "main")
    wh = service.warehouse(settings)
    stored = 0
    try:
        wh.query("UPDATE anpr_counters SET value = ? WHERE name = 'rid'", [files[0]["first_read_id"] - 1])
        wh.query("UPDATE anpr_counters SET value = ? WHERE name = 'batch'", [files[0]["day"]])
        for f in files:
            path = args.gen / f["file"]
            res = service.ingest(
                db=db, wh=wh, source=service.file_source(path, chunk_rows=args.chunk_rows), actor="bench",
                role="admin", origin=str(path), raise_alerts=False,
            )
            if res.stored != f["rows"]:
                raise SystemExit(f"{f['file']}: {res.stored:,} stored of {f['rows']:,} "
                                 f"({res.duplicates} duplicates, {res.rejected} rejected)")
            stored += res.stored
        wh.checkpoint()
        import_s, import_cpu = time.perf_counter() - t, time.process_time() - cpu
        wh_gb = du_gb(work / "main")
        t2, cpu2 = time.perf_counter(), time.process_time()
        staging = work / "export"
        wh.export_parquet("anpr_reads", staging / "anpr_reads")
        if not (args.out / "anpr_links").exists():
            wh.export_parquet("anpr_links", staging / "anpr_links")
            os.replace(staging / "anpr_links", args.out / "anpr_links")
        export_s, export_cpu = time.perf_counter() - t2, time.process_time() - cpu2
    finally:
        Warehouse.close_for(settings)
        db.dispose()
    reads = args.out / "anpr_reads"
    for old in reads.glob(f"day=*/{tag}_*"):  # a partial move of an interrupted run
        old.unlink()
    size, days = 0, []
    for part in sorted((staging / "anpr_reads").glob("day=*")):
        (reads / part.name).mkdir(parents=True, exist_ok=True)
        days.append(int(part.name.removeprefix("day=")))
        for p in part.glob("*.parquet"):
            size += p.stat().st_size
            os.replace(p, reads / part.name / f"{tag}_{p.name}")
    shutil.rmtree(work)
    return {"files": [f["file"] for f in files], "reads": stored, "utc_days": [min(days), max(days)],
            "bytes": size, "warehouse_gib": round(wh_gb, 3), "import_s": round(import_s, 1),
            "import_cpu_s": round(import_cpu, 1), "export_s": round(export_s, 1),
            "export_cpu_s": round(export_cpu, 1), "rss_mib": round(peak_rss_mib()),
            "free_gb": round(free_gb(args.out), 1), "load1": round(os.getloadavg()[0], 1),
            "at": time.strftime("%H:%M:%S", time.gmtime())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gen", type=Path, required=True, help="a sim generate --by-day directory")
    ap.add_argument("--work", type=Path, required=True, help="the chunks' warehouses (removed after each)")
    ap.add_argument("--out", type=Path, required=True, help="the export: anpr_reads/day=D/, anpr_links/")
    ap.add_argument("--chunk-days", type=int, default=8, help="generated files per chunk warehouse")
    ap.add_argument("--chunk-rows", type=int, default=4_000_000)
    ap.add_argument("--worker", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--min-free-gb", type=float, default=10.0)
    ap.add_argument("--follow", action="store_true", help="wait for days still being generated")
    ap.add_argument("--delete-imported", action="store_true", help="remove each chunk's generated files")
    ap.add_argument("--until", default=None, help="start no chunk after HH:MM UTC")
    ap.add_argument("--max-chunk", type=int, default=None, help="export chunks 0..N only (a prefix of days)")
    args = ap.parse_args()
    (args.out / "chunks").mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    doc = manifest(args.gen, args.follow)
    days = int(doc["params"].get("days", len(doc["files"])))
    n_chunks = (days + args.chunk_days - 1) // args.chunk_days
    if args.max_chunk is not None:
        n_chunks = min(n_chunks, args.max_chunk + 1)
    for ci in range(args.worker, n_chunks, args.workers):
        marker = args.out / "chunks" / f"c{ci:03d}.json"
        if marker.exists():
            continue
        want = range(ci * args.chunk_days, min(days, (ci + 1) * args.chunk_days))
        while True:
            doc = manifest(args.gen, args.follow)
            have = {f["day"]: f for f in doc["files"]}
            if all(d in have for d in want):
                break
            if not args.follow:
                log(f"chunk {ci}: days {want.start}..{want.stop - 1} not all generated; stopping")
                return 2
            time.sleep(15)
        if past(args.until):
            log("stopping: --until reached (run the same command to continue)")
            return 0
        files = [have[d] for d in want]
        rows = sum(f["rows"] for f in files)
        need = rows * (WAREHOUSE_BYTES_PER_READ + EXPORT_BYTES_PER_READ) / 2**30
        if free_gb(args.out) - need < args.min_free_gb:
            log(f"STOP before chunk {ci}: {free_gb(args.out):.1f} GiB free, it needs about {need:.1f} GiB "
                f"and {args.min_free_gb} GiB must stay free")
            return 2
        info = export_chunk(args, ci, files)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=1), encoding="utf-8")
        os.replace(tmp, marker)
        if args.delete_imported:
            for f in files:
                (args.gen / f["file"]).unlink(missing_ok=True)
        done = sorted(args.out.glob("chunks/c*.json"))
        total = sum(json.loads(p.read_text(encoding="utf-8"))["reads"] for p in done)
        log(f"chunk {ci} ({files[0]['file']}..{files[-1]['file']}): {info['reads']:,} reads, import "
            f"{info['import_s']:.0f} s ({info['import_cpu_s']:.0f} CPU), export {info['export_s']:.0f} s "
            f"({info['export_cpu_s']:.0f} CPU), {info['bytes'] / 2**20:,.0f} MiB "
            f"({info['bytes'] / max(info['reads'], 1):.1f} B/read), warehouse {info['warehouse_gib']:.2f} GiB; "
            f"{len(done)} chunks, {total:,} reads done; free {info['free_gb']} GiB; RSS {info['rss_mib']} MiB")
    log(f"worker {args.worker}: no chunk left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
