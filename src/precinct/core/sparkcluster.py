"""A Spark standalone cluster on this machine, started with Spark's own launcher.

One master and N workers, each a ``spark-class`` process from the PySpark installation
(``SPARK_HOME`` = the ``pyspark`` package folder), on free loopback ports. Used by the tests (the
DuckDB-vs-Spark equality tests run against it) and by ``bench/anpr_spark_cluster.py``; a real
deployment runs the same launcher on its own machines and points ``PRECINCT_SPARK_MASTER`` at
``spark://<master-host>:7077``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

READY_TIMEOUT_S = 180.0


def spark_home() -> Path:
    """The Spark distribution bundled with PySpark (``bin/spark-class``, ``jars/``)."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StandaloneCluster:
    """A master and workers on 127.0.0.1; a context manager that stops them on exit.

    Parameters
    ----------
    workdir : Path
        Folder for the logs (``master.log``, ``worker-N.log``) and the workers' scratch space.
    workers : int
        How many worker processes.
    cores : int
        Cores each worker offers.
    memory : str
        Memory each worker offers (Spark's size syntax, e.g. ``"1g"``).
    """

    def __init__(self, workdir: Path, *, workers: int = 1, cores: int = 1, memory: str = "1g") -> None:
        if workers < 1 or cores < 1:
            raise ValueError("a cluster needs at least one worker with at least one core")
        self.workdir = Path(workdir)
        self.workers, self.cores, self.memory = workers, cores, memory
        self.port = _free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self._procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, log: Path, *args: str) -> subprocess.Popen[bytes]:
        home = spark_home()
        env = os.environ | {
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_WORKER_DIR": str(self.workdir / "work"),
            "SPARK_LOCAL_DIRS": str(self.workdir / "tmp"),
            # no REST submission server (it would take the fixed port 6066)
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(home / "bin" / "spark-class"), *args],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        self._procs.append(proc)
        return proc

    def _wait_for(self, log: Path, text: str, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if text in log.read_text(encoding="utf-8", errors="replace"):
                return
            if proc.poll() is not None:
                raise RuntimeError(f"Spark process exited with {proc.returncode}; see {log}")
            time.sleep(0.5)
        raise TimeoutError(f"Spark process not ready after {READY_TIMEOUT_S:.0f} s; see {log}")

    def start(self) -> StandaloneCluster:
        """Start the master, then the workers; return once every worker has registered."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        master_log = self.workdir / "master.log"
        master = self._spawn(
            master_log, "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(self.port), "--webui-port", "0",
        )
        try:
            self._wait_for(master_log, "I have been elected leader", master)
            for i in range(self.workers):
                log = self.workdir / f"worker-{i}.log"
                proc = self._spawn(
                    log, "org.apache.spark.deploy.worker.Worker", self.url, "--host", "127.0.0.1",
                    "--webui-port", "0", "--cores", str(self.cores), "--memory", self.memory,
                )
                self._wait_for(log, "Successfully registered with master", proc)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the workers, then the master (SIGTERM, then SIGKILL after 20 s)."""
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
