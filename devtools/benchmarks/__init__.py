"""Benchmarks: accuracy on data nobody here wrote (FEBRL) and on the synthetic council,
and speed and memory at a million records. Run by ``make bench-accuracy`` and ``make bench``.
"""

from pathlib import Path


def own_peak_mb() -> float:
    """This process's peak resident memory, in MB, since it started its program
    (``VmHWM``).

    Not ``getrusage``: Linux carries a parent's high-water mark into a forked child
    (through ``exec``), so a small child started after its parent generated a council
    (1.5 GB at a million records) reports at least the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux")
