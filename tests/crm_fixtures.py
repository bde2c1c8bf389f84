"""Small nights of golden records for the CRM publishing tests, and a reader of the CRM's
tables that shows every byte of them."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import create_engine, inspect, text

from golden_record.publish.publishing import golden_columns


def night(people: dict[str, dict], members: dict[str, list[str]]) -> tuple:
    """``people``: golden_id → attribute values; ``members``: golden_id → source records
    ("system:id"). Returns (golden, sources) frames as the pipeline writes them."""
    golden = pd.DataFrame(
        [
            {
                "golden_id": golden_id,
                "emails": "[]",
                "phones": "[]",
                "addresses": "[]",
                **values,
                "source_record_count": len(members[golden_id]),
                "source_systems": ",".join(sorted({m.split(":")[0] for m in members[golden_id]})),
            }
            for golden_id, values in people.items()
        ]
    ).reindex(columns=list(golden_columns()))
    golden["source_record_count"] = golden["source_record_count"].astype("int64")
    sources = pd.DataFrame(
        [
            {
                "source_system": record.split(":")[0],
                "source_record_id": record.split(":")[1],
                "golden_id": golden_id,
                "cluster_match_probability": 0.99,
            }
            for golden_id, records in members.items()
            for record in records
        ]
    )
    return golden, sources


def lineage(merged_into: dict | None = None, split_from: dict | None = None) -> pd.DataFrame:
    ids = sorted({*(merged_into or {}), *(split_from or {})})
    return pd.DataFrame(
        {
            "golden_id": ids,
            "merged_into": [(merged_into or {}).get(i) for i in ids],
            "split_from": [(split_from or {}).get(i) for i in ids],
        }
    )


def execute(url: str, *statements: str) -> None:
    """Run statements in one transaction, as a DBA or a CRM upgrade would."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in key order, as the database returns it."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = sorted(inspect(connection).get_table_names())
            return {
                table: [
                    tuple(row)
                    for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))
                ]
                for table in tables
            }
    finally:
        engine.dispose()


def feed(url: str, after: int = 0) -> list[tuple]:
    """What a consumer reads: the change feed after the last sequence it processed."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(
                    text(
                        "SELECT sequence, event, golden_id, related_golden_id, changed_attributes"
                        " FROM crm_change_feed WHERE sequence > :after ORDER BY sequence"
                    ),
                    {"after": after},
                )
            ]
    finally:
        engine.dispose()
