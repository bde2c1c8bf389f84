"""A night's doubtful pairs kept in the golden store for review, with the scored detail
a steward sees (each distinct detail stored once, by its hash)."""

from __future__ import annotations

import hashlib

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from golden_record.bulk_load import bulk_insert
from golden_record.golden.store import schema
from golden_record.golden.store.common import CHUNK, as_json, row_dicts

# review_item's columns, in the order a night's rows are loaded.
_ITEM_COLUMNS = [
    "run_key",
    "record_a",
    "record_b",
    "match_probability",
    "match_weight",
    "reason",
    "detail_hash",
]


def write_review(
    connection: Connection,
    run_key: str,
    pairs: pd.DataFrame,
    detail: pd.DataFrame | None,
) -> None:
    details: dict[tuple[str, str], str] = {}
    if detail is not None and len(detail):
        wanted = set(zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True))
        keys = list(zip(detail["unique_id_l"], detail["unique_id_r"], strict=True))
        chosen = detail[[key in wanted for key in keys]]
        plain = chosen.astype(object).where(chosen.notna(), None)
        texts = {}
        for row in row_dicts(plain):
            text = as_json(row)
            digest = hashlib.sha256(text.encode()).hexdigest()
            texts[digest] = text
            details[(row["unique_id_l"], row["unique_id_r"])] = digest
        d = schema.review_detail
        known: set[str] = set()
        hashes = list(texts)
        for start in range(0, len(hashes), CHUNK):
            known |= set(
                connection.execute(
                    select(d.c.detail_hash).where(
                        d.c.detail_hash.in_(hashes[start : start + CHUNK])
                    )
                ).scalars()
            )
        fresh = [(h, t) for h, t in texts.items() if h not in known]
        bulk_insert(connection, d.name, pd.DataFrame(fresh, columns=["detail_hash", "detail"]))
    rows = [
        {
            "run_key": run_key,
            "record_a": min(a, b),
            "record_b": max(a, b),
            "match_probability": None if pd.isna(p) else float(p),
            "match_weight": None if pd.isna(w) else float(w),
            "reason": reason,
            "detail_hash": details.get((a, b)),
        }
        for a, b, p, w, reason in zip(
            pairs["unique_id_l"],
            pairs["unique_id_r"],
            pairs["match_probability"],
            pairs["match_weight"],
            pairs["reason"],
            strict=True,
        )
    ]
    rows = list({(r["record_a"], r["record_b"]): r for r in rows}.values())
    bulk_insert(connection, schema.review_item.name, pd.DataFrame(rows, columns=_ITEM_COLUMNS))
