"""What a long command is doing, as it does it: a spinner per step on a terminal, then a
line saying the step is done and how long it took (on standard error, so a command's
own output stays clean to pipe). At a million records a `golden-record match` runs for
minutes; a person watching it should see it move."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

_console = Console(stderr=True, highlight=False)


@contextmanager
def step(what: str) -> Iterator[None]:
    started = time.perf_counter()
    with _console.status(f"{what}…"):
        yield
    _console.print(f"[green]✓[/green] {what} ({time.perf_counter() - started:.1f} s)")
