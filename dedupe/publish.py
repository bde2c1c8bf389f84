"""Publish golden records to the CRM database in one transaction.

The new state replaces the old inside a single transaction, so the CRM sees either last
night's records or tonight's, never a mixture; a failure rolls back and leaves the
previous state visible. Any SQLAlchemy URL works; a SQLite file is the embedded default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dedupe.paths import SQL_DIR


class PublishError(RuntimeError):
    """The CRM could not be written; it still shows its previous state."""


@dataclass(frozen=True)
class PublishSummary:
    run_key: str
    golden_records: int
    source_records: int
    crm: str


def _statements(path) -> list[str]:
    sql = "\n".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.strip().startswith("--")
    )
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def _engine(url: str):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        from pathlib import Path

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url)


def publish(golden: pd.DataFrame, xref: pd.DataFrame, run_key: str, crm_url: str) -> PublishSummary:
    safe_url = make_url(crm_url).render_as_string(hide_password=True)
    engine = _engine(crm_url)
    golden = golden.assign(run_key=run_key)
    xref = xref.assign(run_key=run_key)
    try:
        with engine.begin() as connection:
            for statement in _statements(SQL_DIR / "crm" / "crm_schema.sql"):
                connection.execute(text(statement))
            connection.execute(text("DELETE FROM golden_customer_source"))
            connection.execute(text("DELETE FROM golden_customer"))
            golden.to_sql(
                "golden_customer", connection, if_exists="append", index=False, chunksize=10_000
            )
            xref.to_sql(
                "golden_customer_source",
                connection,
                if_exists="append",
                index=False,
                chunksize=10_000,
            )
            connection.execute(
                text("DELETE FROM publish_log WHERE run_key = :run_key"), {"run_key": run_key}
            )
            connection.execute(
                text(
                    "INSERT INTO publish_log"
                    " (run_key, published_at, golden_records, source_records)"
                    " VALUES (:run_key, :published_at, :golden, :sources)"
                ),
                {
                    "run_key": run_key,
                    "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "golden": len(golden),
                    "sources": len(xref),
                },
            )
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        # pandas wraps driver errors from to_sql in its own DatabaseError.
        raise PublishError(f"publishing run {run_key} to {safe_url} failed: {exc}") from exc
    finally:
        engine.dispose()
    return PublishSummary(run_key, len(golden), len(xref), safe_url)
