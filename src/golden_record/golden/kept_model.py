"""A matching model an earlier version kept inside a golden store.

``golden-record match`` used to keep its model as a row of the store; it now promotes it
in the output folder's model registry, as the nights do
(:mod:`golden_record.matching.registry`). A store written before keeps its row, which
:func:`golden_record.jobs.match_file` moves into the registry once, so those golden IDs
keep their model.
"""

from __future__ import annotations

import json

from golden_record.golden.store import GoldenStore


def kept_model(store: GoldenStore) -> tuple[dict, dict] | None:
    """The latest model kept with the store and its metadata, or None."""
    kept = store.kept_model_row()
    if kept is None:
        return None
    model, meta = kept
    return json.loads(model), json.loads(meta)
