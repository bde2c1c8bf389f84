"""Which nights were accepted: the only ones a later night may build on.

A night is accepted when its golden gate passes (or a steward accepts what the gate
refused). Later nights take their baselines from the last accepted night only: the
incremental extracts' snapshot and watermark, the volume bands and the golden store's
state. A refused night is never a baseline, so refusing a night changes nothing tonight
or later: the next night reads from where the last good one left off.

The mark is ``runs/<run_key>/accepted.json``; it is withdrawn whenever the night is being
decided again (its golden records rebuilt) or a gate of it fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from golden_record import paths
from golden_record.atomic import write_text

MARK = "accepted.json"


def _mark(run_key: str, root: Path | None) -> Path:
    return paths.run_dir(run_key, root) / MARK


def mark_accepted(run_key: str, root: Path | None = None, by: str = "golden gate") -> None:
    body = {
        "run_key": run_key,
        "accepted_by": by,
        "accepted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_text(json.dumps(body, indent=2) + "\n", _mark(run_key, root))


def withdraw(run_key: str, root: Path | None = None) -> None:
    _mark(run_key, root).unlink(missing_ok=True)


def is_accepted(run_key: str, root: Path | None = None) -> bool:
    return _mark(run_key, root).is_file()


def last_accepted_before(
    run_key: str, root: Path | None = None, having: Callable[[str], bool] | None = None
) -> str | None:
    """The latest accepted night before ``run_key`` (for which ``having`` holds)."""
    runs = paths.runs_root(root)
    if not runs.is_dir():
        return None
    earlier = sorted(
        (p.name for p in runs.iterdir() if p.name < run_key and (p / MARK).is_file()),
        reverse=True,
    )
    return next((key for key in earlier if having is None or having(key)), None)
