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


class ResidentSampler:
    """This process's resident memory, sampled on a thread of its own (every ``every``
    seconds, with the wall clock), to tell which part of a long in-process run (the
    tasks of one ``dag.test()`` night) set its peak: :meth:`peak_between` two times."""

    def __init__(self, every: float = 0.05):
        import threading

        self.every = every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import time

        status = Path("/proc/self/status")
        while not self._stop.is_set():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.time(), int(line.split()[1]) / 1024))
                    break
            self._stop.wait(self.every)

    def __enter__(self) -> "ResidentSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> float | None:
        """The largest sample from ``start`` to ``end`` (Unix times), in MB."""
        inside = [mb for at, mb in self.samples if start <= at <= end]
        return max(inside) if inside else None

    def at(self, moment: float) -> float | None:
        """The first sample at or after ``moment`` (a Unix time), in MB: what a task found
        held when it started (what earlier tasks left), against its own peak."""
        return next((mb for at, mb in self.samples if at >= moment), None)
