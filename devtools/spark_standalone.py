"""A Spark standalone cluster on this machine: a master and workers as their own JVMs,
started from the lock's PySpark (the same Spark as the compose profile's), for tests and
benchmarks that must run against ``spark://`` rather than local mode: executors in
processes of their own, Python workers started by them, tasks sent over the network.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


class ClusterStartError(RuntimeError):
    """The master or a worker did not come up."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _spark_class() -> Path:
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home()) / "bin" / "spark-class"


def _alive_workers(ui_port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as answer:
        state = json.load(answer)
    return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")


@contextmanager
def standalone_cluster(
    workers: int = 1, cores: int = 2, memory: str = "4g", timeout: float = 90.0
) -> Iterator[str]:
    """Yields the master's URL (``spark://127.0.0.1:PORT``) once every worker has
    registered; stops them all after."""
    folder = Path(tempfile.mkdtemp(prefix="golden-record-spark-cluster-"))
    port, ui_port = _free_port(), _free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(folder)}
    spark_class = str(_spark_class())
    started: list[subprocess.Popen] = []

    def launch(name: str, *arguments: str) -> None:
        log = (folder / f"{name}.log").open("wb")
        started.append(
            subprocess.Popen(
                [spark_class, *arguments], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        )

    master = f"spark://127.0.0.1:{port}"
    try:
        launch(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port),
        )  # fmt: skip
        for n in range(workers):
            launch(
                f"worker-{n}",
                "org.apache.spark.deploy.worker.Worker",
                "--cores", str(cores), "--memory", memory, "--work-dir", str(folder / f"w{n}"),
                "--webui-port", str(_free_port()), master,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            with suppress(OSError, ValueError):
                if _alive_workers(ui_port) >= workers:
                    break
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                logs = {p.name: p.read_text()[-1500:] for p in folder.glob("*.log")}
                raise ClusterStartError(f"Spark standalone cluster did not start: {logs}")
            time.sleep(0.5)
        yield master
    finally:
        for process in reversed(started):
            process.terminate()
        for process in reversed(started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)
