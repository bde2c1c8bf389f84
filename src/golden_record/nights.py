"""Which nights were accepted: the only ones a later night may build on.

A night is accepted when its golden gate passes (or a steward accepts what the gate
refused). Later nights take their baselines from the last accepted night only: the
incremental extracts' snapshot and watermark, the volume bands and the golden store's
state. A refused night is never a baseline, so refusing a night changes nothing tonight
or later: the next night reads from where the last good one left off.

The mark is ``runs/<run_key>/accepted.json`` (:attr:`Run.accepted_mark`); it is withdrawn
whenever the night is being decided again (its golden records rebuilt) or a gate of it
fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from golden_record.atomic import write_text
from golden_record.run import Run


def mark_accepted(run: Run, by: str = "golden gate") -> None:
    body = {
        "run_key": run.key,
        "accepted_by": by,
        "accepted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_text(json.dumps(body, indent=2) + "\n", run.accepted_mark)


def withdraw(run: Run) -> None:
    run.accepted_mark.unlink(missing_ok=True)


def is_accepted(run: Run) -> bool:
    return run.accepted_mark.is_file()


def last_accepted_before(run: Run, having: Callable[[Run], bool] | None = None) -> Run | None:
    """The latest accepted night before ``run`` (for which ``having`` holds)."""
    if not run.runs_dir.is_dir():
        return None
    earlier = sorted(
        (p.name for p in run.runs_dir.iterdir() if p.name < run.key and p.is_dir()),
        reverse=True,
    )
    for key in earlier:
        night = run.other(key)
        if is_accepted(night) and (having is None or having(night)):
            return night
    return None
