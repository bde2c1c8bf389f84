"""Where the package's own files and each run's data live.

The SQL, the expectations, the survivorship rules and the packaged model ship inside the
package (package data, found with ``importlib.resources``), so an installed wheel finds
them outside the checkout. Run data is partitioned by run key (the run's logical date,
``YYYY-MM-DD``), following Airflow's advice to read and write partitions keyed by the
run so reruns are idempotent.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# An installed wheel is unpacked on disk, so the package's files are plain paths.
PACKAGE_ROOT = Path(str(files("golden_record")))
SQL_DIR = PACKAGE_ROOT / "sql"
EXPECTATIONS_DIR = PACKAGE_ROOT / "expectations"
# The checkout holding the package (src layout), or None when installed as a wheel.
_CHECKOUT = PACKAGE_ROOT.parents[1]
PROJECT_ROOT: Path | None = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else None


def data_root() -> Path:
    """Root of all pipeline data: ``GOLDEN_RECORD_DATA``, else ``data/`` in the checkout
    (or in the working directory, for an installed package)."""
    from golden_record.settings import runtime

    return (runtime().data_root or (PROJECT_ROOT or Path.cwd()) / "data").resolve()


def runs_root(root: Path | None = None) -> Path:
    return (root or data_root()) / "runs"


def run_dir(run_key: str, root: Path | None = None) -> Path:
    return runs_root(root) / run_key


def raw_path(run_key: str, source: str, root: Path | None = None) -> Path:
    return run_dir(run_key, root) / "raw" / f"{source}.parquet"


def canonical_path(run_key: str, source: str, root: Path | None = None) -> Path:
    return run_dir(run_key, root) / "canonical" / f"{source}.parquet"
