"""The review queue by the people it affects: items of golden records, not pairs.

The latest night's undecided doubtful pairs join golden records; each set of golden
records joined by them is one *item*. A steward answering any pair of it decides about
every source record of those golden records, so the item shows them all: the third
record where a record fits two people, the household a doubtful pair sits in. Items are
ranked as the night's ``review_queue.parquet`` ranks them
(:func:`golden_record.matching.review_queue.review_queue`: records affected, then
systems, then the strongest doubtful link), and named by the same ID (a hash of their
records: the same records, the same ID).

A steward *claims* an item so that two stewards do not work on the same people at once;
the claim names who and since when, and ends when released, when the item changes (a
decision or a night makes another), or :data:`CLAIM_HOURS` after it was made. Taking
over another steward's claim is allowed, and says whose it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from golden_record.golden.store import GoldenStore, StoreError
from golden_record.matching.review_queue import review_queue

CLAIM_HOURS = 8


@dataclass(frozen=True)
class ReviewItem:
    item_id: str
    rank: int
    golden_ids: tuple[str, ...]  # the golden records the answer affects, in ID order
    records: tuple[str, ...]  # every source record of them
    systems: int
    reason: str  # the strongest doubtful link's
    pairs: pd.DataFrame  # record_a, record_b, match_probability, reason: strongest first
    golden_of: dict[str, str]  # each record's golden ID
    claimed_by: str | None = None
    claimed_at: str | None = None

    def sources(self) -> set[str]:
        return {record.split(":", 1)[0] for record in self.records}


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _in_force(claimed_at: str, now: datetime) -> bool:
    made = datetime.strptime(claimed_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return now - made < timedelta(hours=CLAIM_HOURS)


def review_items(store: GoldenStore, now: datetime | None = None) -> list[ReviewItem]:
    """The queue's items, first to look at first, each with its claim if one is in
    force."""
    now = now or _now()
    pending = store.review_queue(limit=None)
    xref = store.queue_xref()
    golden_of = dict(zip(xref["unique_id"], xref["golden_id"], strict=True))
    # A pair whose record has since left every golden record (erased) has no item.
    pending = pending[pending["record_a"].isin(golden_of) & pending["record_b"].isin(golden_of)]
    if pending.empty:
        return []
    pairs = pending.rename(columns={"record_a": "unique_id_l", "record_b": "unique_id_r"})
    clusters = xref[["unique_id", "golden_id"]].rename(columns={"golden_id": "cluster_id"})
    queue = review_queue(pairs, clusters)
    queue["unique_id"] = queue["source_system"] + ":" + queue["source_record_id"]
    item_of_record = dict(zip(queue["unique_id"], queue["item_id"], strict=True))
    pending = pending.assign(item_id=pending["record_a"].map(item_of_record))
    claims = store.claims()
    claimed: dict[str, tuple[str | None, str | None]] = {
        str(item_id): (str(by), str(at))
        for item_id, by, at in zip(
            claims["item_id"], claims["claimed_by"], claims["claimed_at"], strict=True
        )
        if _in_force(str(at), now)
    }
    items = []
    for item_id, members in queue.groupby("item_id", sort=False):
        records = tuple(sorted(members["unique_id"]))
        first = members.iloc[0]
        links = pending[pending["item_id"] == item_id].drop(columns="item_id")
        by, at = claimed.get(str(item_id), (None, None))
        items.append(
            ReviewItem(
                item_id=str(item_id),
                rank=int(first["rank"]),
                golden_ids=tuple(sorted({golden_of[r] for r in records})),
                records=records,
                systems=int(first["systems"]),
                reason=str(first["reason"]),
                pairs=links.reset_index(drop=True),
                golden_of={r: golden_of[r] for r in records},
                claimed_by=by,
                claimed_at=at,
            )
        )
    return sorted(items, key=lambda item: item.rank)


def find_item(store: GoldenStore, item_id: str) -> ReviewItem:
    for found in review_items(store):
        if found.item_id == item_id:
            return found
    raise StoreError(
        f"no review item {item_id} in the queue: decided, changed by a night (its records "
        "are then another item's), or never queued"
    )


def item_holding(store: GoldenStore, *records: str) -> ReviewItem | None:
    """The item holding any of ``records``, or None."""
    wanted = set(records)
    return next((i for i in review_items(store) if wanted & set(i.records)), None)


def claim(store: GoldenStore, item_id: str, by: str, take_over: bool = False) -> dict:
    """Claim an item for ``by``. Refused when another steward's claim is in force, unless
    ``take_over`` (the answer then says whose it was)."""
    if not by.strip():
        raise StoreError("a claim needs who makes it (--by)")
    find_item(store, item_id)
    now = _now()
    with store.transaction() as connection:
        earlier = store.claim_of(connection, item_id)
        held = earlier is not None and _in_force(earlier["claimed_at"], now)
        if held and earlier is not None and earlier["claimed_by"] != by and not take_over:
            raise StoreError(
                f"{item_id} is claimed by {earlier['claimed_by']} since "
                f"{earlier['claimed_at']}; take it over only if they have stopped "
                "(--take-over)"
            )
        store.set_claim(connection, item_id, by, _stamp(now))
    taken_from = earlier["claimed_by"] if held and earlier and earlier["claimed_by"] != by else None
    return {
        "item_id": item_id,
        "claimed_by": by,
        "claimed_at": _stamp(now),
        "taken_from": taken_from,
    }


def release(store: GoldenStore, item_id: str, by: str) -> None:
    """End ``by``'s claim of an item; refused when the claim in force is another's."""
    with store.transaction() as connection:
        earlier = store.claim_of(connection, item_id)
        if earlier is None:
            return
        if earlier["claimed_by"] != by and _in_force(earlier["claimed_at"], _now()):
            raise StoreError(f"{item_id} is claimed by {earlier['claimed_by']}, not {by}")
        store.end_claim(connection, item_id)
