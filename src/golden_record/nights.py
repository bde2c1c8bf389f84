"""Which nights were accepted: the only ones a later night may build on.

A night is accepted when its golden gate passes (or a steward accepts what the gate
refused). Later nights take their baselines from the last accepted night only: the
incremental extracts' snapshot and watermark, the volume bands and the golden store's
state. A refused night is never a baseline, so refusing a night changes nothing tonight
or later: the next night reads from where the last good one left off.

The mark is ``runs/<run_key>/accepted.json`` (:attr:`Run.accepted_mark`); it is withdrawn
whenever the night is being decided again (its golden records rebuilt) or a gate of it
fails. The golden store records each run's folder too, so a run writing elsewhere (a
``golden-record match`` into a new output folder, a data root restored at another path)
finds the last accepted run through the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

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


def last_accepted_before(
    run: Run, having: Callable[[Run], bool] | None = None, elsewhere: Iterable[Run] = ()
) -> Run | None:
    """The latest accepted night before ``run`` (for which ``having`` holds), among the
    runs under ``run``'s data root and ``elsewhere``: runs in other folders that the
    golden store knows as accepted (:func:`runs_in_store`), so a run writing to a new
    folder builds on the store's last one. Under one key, this data root's run comes
    first."""
    candidates: list[Run] = []
    if run.runs_dir.is_dir():
        candidates += [
            run.other(p.name) for p in run.runs_dir.iterdir() if p.name < run.key and p.is_dir()
        ]
    candidates += [night for night in elsewhere if night.key < run.key]
    # Latest key first; stable, so this root's run precedes another folder's of one key.
    for night in sorted(candidates, key=lambda n: n.key, reverse=True):
        if is_accepted(night) and (having is None or having(night)):
            return night
    return None


def runs_in_store(folders: Iterable[tuple[str, Path]], run: Run) -> list[Run]:
    """The runs at ``folders`` (run key, folder: what the golden store records of its
    accepted runs) whose key ``run``'s own data root does not hold, as runs to build on.
    A run this data root holds is always taken from here, even when the store recorded
    another folder for it: a data root copied or restored elsewhere builds on its own
    files, never on the folder it was copied from."""
    found = []
    for key, folder in folders:
        local = run.runs_dir / key
        if local.is_dir() or folder == local.resolve():
            continue  # this data root's own: seen there
        root = folder.parent.parent
        try:
            found.append(Run.of(key, root=root))
        except ValueError:  # a command-line run key that is not a date
            found.append(Run.of(key, run.date, root))
    return found
