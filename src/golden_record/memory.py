"""Give memory a finished stage freed back to the operating system.

Airflow runs each task in a process of its own, whose memory goes back when it exits.
``dag.test()`` (the demo, a laptop's night) runs every task in one process, where glibc
and Arrow keep what a stage freed for reuse: after a million-record first night's
build_golden the process still held gigabytes no later task needed, and the night's peak
was the sum of stages rather than the largest. Called after each task's stage.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


@cache
def _unfrozen_at_exit() -> None:
    # Shutdown's last collection skips frozen objects, and DuckDB's bindings then report
    # its types as leaked on every task's stderr.
    atexit.register(gc.unfreeze)


def give_back() -> None:
    """Collect garbage, release Arrow's unused pool memory and trim glibc's heap (where
    there is a glibc: elsewhere only the first two).

    What survives the collection is frozen out of later ones (``gc.freeze``): it is the
    process's lasting state (Airflow, Great Expectations, Splink and their modules, some
    million objects), which a full collection otherwise walks again after every task:
    half a second each, five of a demo night's fifty. Objects a later stage makes are
    collected as before; a frozen object is still freed when nothing refers to it."""
    gc.collect()
    gc.freeze()
    _unfrozen_at_exit()
    trim()


def trim() -> None:
    """Release Arrow's unused pool memory and trim glibc's heap, without a collection:
    for a step that has just dropped its own large frames."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
