"""Write files (and folders) so that readers see the old one or the complete new one,
never half.

Each write goes to a temporary file in the same directory and is renamed into place,
which POSIX guarantees to be atomic on one filesystem.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

Job = TypeVar("Job")
Done = TypeVar("Done")


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
    if not any(isinstance(dtype, pd.ArrowDtype) for dtype in frame.dtypes):
        return write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))
    import pyarrow.parquet as pq

    return write_atomically(path, lambda tmp: pq.write_table(_readable_table(frame), tmp))


def write_arrow(table: Any, path: Path) -> Path:
    """An Arrow table as Parquet (its schema's metadata as it has it: a table read from a
    file pandas wrote reads back as that file did)."""
    import pyarrow.parquet as pq

    return write_atomically(path, lambda tmp: pq.write_table(table, tmp))


# Files written at once: Arrow's writers (and hashlib) work without Python's lock, so on
# a two-core machine a night's files take two thirds of the time one after another did
# (a quiet night's match: scored pairs, cross-reference and the rest).
PARALLEL_WRITES = 2


def two_at_a_time(work: Callable[[Job], Done], jobs: Sequence[Job]) -> list[Done]:
    """``work`` done on each of ``jobs``, :data:`PARALLEL_WRITES` at a time, its results in
    the jobs' order; the first failure is raised once every job has ended (what was
    written stays written, as one after another it would)."""
    from concurrent.futures import ThreadPoolExecutor

    if len(jobs) < 2:
        return [work(job) for job in jobs]
    with ThreadPoolExecutor(PARALLEL_WRITES, thread_name_prefix="two-at-a-time") as pool:
        futures = [pool.submit(work, job) for job in jobs]
    return [future.result() for future in futures]


def write_parquets(files: Sequence[tuple[Any, Path]]) -> list[Path]:
    """Each (pandas frame or Arrow table, path) written as :func:`write_parquet` or
    :func:`write_arrow` does, each atomically, :func:`two_at_a_time`."""

    def one(job: tuple[Any, Path]) -> Path:
        data, path = job
        if isinstance(data, pd.DataFrame):
            return write_parquet(data, path)
        return write_arrow(data, path)

    return two_at_a_time(one, files)


def _readable_table(frame: pd.DataFrame) -> Any:
    """``frame`` as Arrow, its Arrow-held columns (lists kept in Arrow by the match) noted
    in the pandas metadata as plain objects: pandas writes their type as text such as
    ``list<element: string>[pyarrow]``, which it cannot read back (every reader of the
    file would fail), and read as objects they are what they were before being kept in
    Arrow."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    pandas_metadata = json.loads(metadata[b"pandas"])
    for column in pandas_metadata["columns"]:
        if str(column.get("numpy_type", "")).endswith("[pyarrow]"):
            column["numpy_type"] = "object"
    metadata[b"pandas"] = json.dumps(pandas_metadata).encode()
    return table.replace_schema_metadata(metadata)


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
