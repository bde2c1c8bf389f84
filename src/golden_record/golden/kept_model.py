"""The matching model kept with a golden store.

``golden-record match --store`` trains on its first input and keeps the model here, so
later runs against the same store are matched by the same model (a new model each run
would move records between golden IDs for no change in the data). A retrain keeps a new
model; the latest kept is the one used.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import insert, select

from golden_record.golden import schema
from golden_record.golden.store import GoldenStore


def keep_model(store: GoldenStore, name: str, model: dict, meta: dict) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(schema.matching_model).values(
                name=name,
                model=json.dumps(model),
                meta=json.dumps(meta),
                kept_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )


def kept_model(store: GoldenStore) -> tuple[dict, dict] | None:
    """The latest model kept with the store and its metadata, or None."""
    table = schema.matching_model
    with store.engine.connect() as connection:
        row = connection.execute(
            select(table.c.model, table.c.meta).order_by(table.c.model_id.desc()).limit(1)
        ).first()
    if row is None:
        return None
    return json.loads(row.model), json.loads(row.meta)
