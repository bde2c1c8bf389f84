"""Where the package's own files and each run's data live.

The SQL, the expectations, the survivorship rules and the packaged model ship inside the
package (package data, found with ``importlib.resources``), so an installed wheel finds
them outside the checkout. Each run's own files are laid out by
:class:`golden_record.run.Run`.
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
    """Where every run's folder is (a run's own layout is :class:`golden_record.run.Run`)."""
    return (root or data_root()) / "runs"
