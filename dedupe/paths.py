"""Where the project's own files and each run's data live.

Run data is partitioned by run key (the run's logical date, ``YYYY-MM-DD``), following
Airflow's advice to read and write partitions keyed by the run so reruns are idempotent.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = PROJECT_ROOT / "sql"
PACKAGE_DATA_DIR = Path(__file__).resolve().parent / "data"


def data_root() -> Path:
    """Root of all pipeline data; ``GOLDEN_RECORD_DATA`` overrides the project-local default."""
    return Path(os.environ.get("GOLDEN_RECORD_DATA", PROJECT_ROOT / "data")).resolve()


def runs_root(root: Path | None = None) -> Path:
    return (root or data_root()) / "runs"


def run_dir(run_key: str, root: Path | None = None) -> Path:
    return runs_root(root) / run_key


def raw_path(run_key: str, source: str, root: Path | None = None) -> Path:
    return run_dir(run_key, root) / "raw" / f"{source}.parquet"


def canonical_path(run_key: str, source: str, root: Path | None = None) -> Path:
    return run_dir(run_key, root) / "canonical" / f"{source}.parquet"
