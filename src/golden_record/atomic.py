"""Write files (and folders) so that readers see the old one or the complete new one,
never half.

Each write goes to a temporary file in the same directory and is renamed into place,
which POSIX guarantees to be atomic on one filesystem.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def write_atomically(path: Path, write: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    return write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_text(text: str, path: Path) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return write_atomically(path, write)


def replace_folder(building: Path, final: Path) -> Path:
    """Put the finished folder ``building`` in place of ``final``. Readers find the old
    folder or the complete new one, never a partial one (for an instant between the two
    renames, neither: POSIX has no atomic exchange of directories)."""
    retired = final.with_name(f".{final.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    if final.exists():
        final.rename(retired)
    building.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    return final
