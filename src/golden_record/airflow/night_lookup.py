"""The last accepted night's lookup, loaded once and shared by the plugin's routes that
ask it (the portal's ``/api/lookup`` and the stewards' search): one DuckDB connection
answers one question at a time, so asking holds a lock; a newer accepted night replaces
it on the next question."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import HTTPException

Answer = TypeVar("Answer")

_asking = threading.Lock()
_loaded: dict[str, Any] = {}


def ask(question: Callable[[Any], Answer]) -> tuple[str, Answer]:
    """``question`` asked of the last accepted night's :class:`Lookup`: the night's run
    key and the answer (503 while no night is accepted; 422 for a question the lookup
    refuses, with its one line)."""
    from golden_record import paths
    from golden_record.matching.lookup import Lookup, LookupError_, latest_accepted

    night = latest_accepted(paths.runs_root())
    if night is None:
        raise HTTPException(status_code=503, detail="no accepted night to look up in yet")
    with _asking:
        if _loaded.get("run_key") != night.key:
            _loaded.update(run_key=night.key, lookup=Lookup.of_night(night))
        try:
            return night.key, question(_loaded["lookup"])
        except LookupError_ as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
