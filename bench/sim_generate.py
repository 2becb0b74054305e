"""Benchmark ``precinct sim generate``: wall time, reads per second, peak memory.

    .venv/bin/python bench/sim_generate.py --days 30 --reads-per-day 3333334 [--record]

``--record`` appends a row to the "Living city (issue 4)" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from precinct.sim.generate import generate

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "## Living city (issue 4)"
INTRO = f"""{SECTION}

`precinct sim generate` writes reads.parquet (zstd, 1M-row groups) plus the small CSV tables and
truth.json, streaming one simulated day at a time. Target: 100 million reads in under 10 minutes
with bounded memory. Rows are appended by `bench/sim_generate.py --record`; "setup" is the time to
build the city geography, population, planted stories and calls before the first read is written.
Peak RSS is the whole process (Python, numpy, pyarrow, the road graph).

| date | machine | command | reads | wall s | setup s | reads/s | peak RSS MiB | parquet MiB |
|---|---|---|---|---|---|---|---|---|
"""


def record(row: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + "\n\n" + INTRO
    start = text.index(SECTION)
    nxt = text.find("\n## ", start + len(SECTION))
    end = len(text) if nxt < 0 else nxt + 1
    body = text[start:end].rstrip("\n") + "\n" + row + "\n"
    text = text[:start] + body + ("\n" + text[end:] if nxt >= 0 else "")
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--reads-per-day", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="keep the output here")
    ap.add_argument("--machine", default="2 shared cores (about 6 agents)")
    ap.add_argument("--record", action="store_true", help="append the result to docs/BENCHMARKS.md")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="sim_bench_"))
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "writing reads" and "first" not in marks:
            marks["first"] = time.perf_counter() - t0
        print(f"\r{stage} {done}/{total} {time.perf_counter() - t0:7.1f}s", end="", flush=True)

    truth = generate(out, days=args.days, seed=args.seed, reads_per_day=args.reads_per_day,
                     progress=progress)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = truth["counts"]["reads"]
    size = (out / "reads.parquet").stat().st_size / 2**20
    cmd = (f"`python bench/sim_generate.py --days {args.days} --reads-per-day {args.reads_per_day}"
           f" --seed {args.seed}`")
    print(f"\n{n:,} reads in {wall:.1f} s ({n / wall:,.0f} reads/s), setup {marks.get('first', 0):.1f} s, "
          f"peak RSS {rss:.0f} MiB, parquet {size:.0f} MiB; {platform.python_version()}, "
          f"{os.cpu_count()} cpus")
    if args.record:
        record(f"| {dt.date.today().isoformat()} | {args.machine} | {cmd} | {n:,} | {wall:.0f} | "
               f"{marks.get('first', 0):.0f} | {n / wall:,.0f} | {rss:.0f} | {size:.0f} |")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
