"""Bring a golden store written by an older version up to the current schema.

``create_all`` adds missing tables but never a missing column, so each column added
since the first release is added here, in place and idempotently, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import delete, inspect, select, text
from sqlalchemy.engine import Engine

from golden_record.golden.store import schema


def upgrade(engine: Engine) -> None:
    _add_run_status(engine)
    _add_content_hash(engine)
    _move_night_acceptance(engine)


def _move_night_acceptance(engine: Engine) -> None:
    """v4: acceptances name their gate (``gate_acceptance``); the golden gate's, all there
    were, move there from ``night_acceptance``."""
    if "night_acceptance" not in inspect(engine).get_table_names():
        return
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO gate_acceptance (run_key, gate, input_fingerprint, accepted_by,"
                " accepted_at, reason) SELECT run_key, 'golden', input_fingerprint, accepted_by,"
                " accepted_at, reason FROM night_acceptance"
            )
        )
        connection.execute(text("DROP TABLE night_acceptance"))


def _add_content_hash(engine: Engine) -> None:
    """v3: golden versions keep a hash of their attributes. Older rows keep NULL; a night
    that finds one unchanged fills it in."""
    columns = {c["name"] for c in inspect(engine).get_columns("golden_version")}
    if "content_hash" in columns:
        return
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE golden_version ADD COLUMN content_hash VARCHAR(16)"))


def _add_run_status(engine: Engine) -> None:
    columns = {c["name"] for c in inspect(engine).get_columns("store_run")}
    if "status" in columns:
        return
    with engine.begin() as connection:
        # Runs written before staging existed were all taken as the store's state.
        connection.execute(
            text("ALTER TABLE store_run ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'accepted'")
        )
        # Stores of that version kept the scored detail of nights later taken back.
        d, r = schema.review_detail, schema.review_item
        referenced = select(r.c.detail_hash).where(r.c.detail_hash.is_not(None))
        connection.execute(delete(d).where(d.c.detail_hash.not_in(referenced)))
