"""A night's doubtful pairs kept in the golden store for review, with the scored detail
a steward sees (each distinct detail stored once, by its hash)."""

from __future__ import annotations

import hashlib

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from golden_record.bulk_load import bulk_insert
from golden_record.golden.carried_detail import ordered_pair
from golden_record.golden.store import schema
from golden_record.golden.store.common import CHUNK, StoreError, as_json, row_dicts

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


def _known(connection: Connection, hashes: list[str]) -> set[str]:
    """Which of ``hashes`` the store holds a detail for."""
    d = schema.review_detail
    known: set[str] = set()
    for start in range(0, len(hashes), CHUNK):
        chunk = hashes[start : start + CHUNK]
        known |= set(
            connection.execute(select(d.c.detail_hash).where(d.c.detail_hash.in_(chunk))).scalars()
        )
    return known


def write_review(
    connection: Connection,
    run_key: str,
    pairs: pd.DataFrame,
    detail: pd.DataFrame | None,
    carried: pd.DataFrame | None = None,
) -> None:
    """``detail``: the scored detail of pairs to serialise; ``carried``: record_a,
    record_b, detail_hash of pairs whose detail the store holds already
    (:mod:`golden_record.golden.carried_detail`)."""
    # Keyed by both ids in order, as review items are.
    details: dict[tuple[str, str], str] = {}
    if carried is not None and len(carried):
        wanted_hashes = carried["detail_hash"].unique().tolist()
        gone = set(wanted_hashes) - _known(connection, wanted_hashes)
        if gone:
            raise StoreError(
                f"run {run_key}: the scored detail {min(gone)} carried from an earlier night "
                "is not in the store (taken back since?): apply the run again"
            )
        details.update(
            zip(
                zip(carried["record_a"], carried["record_b"], strict=True),
                carried["detail_hash"],
                strict=True,
            )
        )
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
            a, b = row["unique_id_l"], row["unique_id_r"]
            details[(min(a, b), max(a, b))] = digest
        known = _known(connection, list(texts))
        fresh = [(h, t) for h, t in texts.items() if h not in known]
        bulk_insert(
            connection,
            schema.review_detail.name,
            pd.DataFrame(fresh, columns=["detail_hash", "detail"]),
        )
    # Each pair's ids in order, as review items are keyed, a column at a time: a dict per
    # item took a second of a quiet night's golden task (85,000 items at a million).
    ordered = ordered_pair(pairs)
    record_a, record_b = ordered["record_a"].to_numpy(), ordered["record_b"].to_numpy()
    items = pd.DataFrame(
        {
            "run_key": run_key,
            "record_a": record_a,
            "record_b": record_b,
            "match_probability": pd.to_numeric(pairs["match_probability"]).to_numpy(float),
            "match_weight": pd.to_numeric(pairs["match_weight"]).to_numpy(float),
            "reason": pairs["reason"].to_numpy(dtype=object),
            "detail_hash": [details.get(key) for key in zip(record_a, record_b, strict=True)],
        },
        columns=_ITEM_COLUMNS,
    )
    key = ["record_a", "record_b"]
    if items.duplicated(key).any():
        # A pair listed twice is stored once: its last values, where it first came.
        last = items.drop_duplicates(key, keep="last").set_index(key)
        where = pd.MultiIndex.from_frame(items.drop_duplicates(key, keep="first")[key])
        items = last.reindex(where).reset_index()[_ITEM_COLUMNS]
    bulk_insert(connection, schema.review_item.name, items)
