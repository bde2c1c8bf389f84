"""Costly test state built once per test session and shared by the xdist workers.

Each worker has its own temporary folder; the session's folder above them is shared. The
first worker to ask builds the state there under a file lock while the others wait, then
every worker reads it. The state is never changed afterwards: tests work on copies.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock


def built_once(
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
    name: str,
    build: Callable[[Path], None],
) -> Path:
    """The folder ``name``, built by ``build(folder)`` the first time any worker asks."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the session's folder, above each worker's
    folder, built = shared / name, shared / f"{name}.built"
    with FileLock(str(shared / f"{name}.lock")):
        if not built.exists():
            # A build that failed part-way is thrown away and tried afresh.
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            built.touch()
    return folder
