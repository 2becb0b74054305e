"""A stand-in API worker for the leadership test: runs one job every 50 ms that records its pid."""

from __future__ import annotations

import asyncio
import sys
import time

from sqlalchemy import create_engine, text

from precinct.core import jobs


class _Db:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, pool_size=2)


async def main(url: str) -> None:
    jobs.RETRY_S = 0.1
    db = _Db(url)
    jobs.leadership(url).retry_s = 0.1

    def tick() -> None:
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO job_runs (pid, at) VALUES (:p, :t)"),
                         {"p": __import__("os").getpid(), "t": time.time()})

    runner = jobs.JobRunner(db, tick_s=0.02)
    runner.add("tick", tick, 0.05)
    runner.start()
    print("started", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
