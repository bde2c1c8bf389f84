"""Clerical review: the queue of doubtful pairs and stewards' decisions about them.

A steward says two records are the 'same' person or 'different' people, with who, when
and why. Decisions are kept in the golden store and honoured by every later run whatever
the model says (a retrained model included): 'same' joins the two records' clusters,
'different' keeps them apart. A decision that names an unknown record, or contradicts
earlier ones (directly or through a chain of 'same' decisions), is refused and nothing is
written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import func, insert, select

from golden_record.golden import schema
from golden_record.golden.store import GoldenStore, StoreError
from golden_record.matching.clustering import connected_groups
from golden_record.matching.precedents import Precedents

DECISIONS = ("same", "different")


@dataclass(frozen=True)
class Links:
    must: set[frozenset[str]]
    cannot: set[frozenset[str]]


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def decisions(store: GoldenStore) -> pd.DataFrame:
    d = schema.steward_decision
    return store.read(select(d).order_by(d.c.decision_id))


def links(store: GoldenStore) -> Links:
    made = decisions(store)
    pairs = {
        kind: {frozenset((a, b)) for a, b in zip(group["record_a"], group["record_b"], strict=True)}
        for kind, group in made.groupby("decision")
    }
    return Links(must=pairs.get("same", set()), cannot=pairs.get("different", set()))


def precedents(store: GoldenStore) -> Precedents:
    """Every decision with the kind of pair the steward saw (its comparison levels and
    review reason, from the latest run that queued it): what
    :mod:`golden_record.matching.precedents` learns from. A pair decided without having
    been queued (no scored detail) teaches nothing."""
    d, r, detail = schema.steward_decision, schema.review_item, schema.review_detail
    latest = (
        select(r.c.record_a, r.c.record_b, func.max(r.c.run_key).label("run_key"))
        .group_by(r.c.record_a, r.c.record_b)
        .subquery()
    )
    # Every decision, with its detail where it was queued: the ones without still join
    # the records of one item.
    query = (
        select(d.c.record_a, d.c.record_b, d.c.decision, r.c.reason, detail.c.detail)
        .outerjoin(
            latest, (latest.c.record_a == d.c.record_a) & (latest.c.record_b == d.c.record_b)
        )
        .outerjoin(
            r,
            (r.c.record_a == latest.c.record_a)
            & (r.c.record_b == latest.c.record_b)
            & (r.c.run_key == latest.c.run_key),
        )
        .outerjoin(detail, detail.c.detail_hash == r.c.detail_hash)
    )
    decided = store.read(query)
    if decided.empty:
        return Precedents()
    levels = pd.DataFrame(
        [
            {k: v for k, v in json.loads(text).items() if k.startswith("gamma_")}
            if isinstance(text, str)
            else {}
            for text in decided["detail"]
        ],
        index=decided.index,
    )
    return Precedents.learnt(pd.concat([decided.drop(columns="detail"), levels], axis=1))


def decide(
    store: GoldenStore, record_a: str, record_b: str, decision: str, by: str, reason: str
) -> dict:
    """Record a steward's decision, or refuse it with a clear message."""
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if record_a == record_b:
        raise StoreError(f"a record is always the same as itself: {record_a}")
    if not by.strip() or not reason.strip():
        raise StoreError("a decision needs who made it (--by) and why (--reason)")
    a, b = _pair(record_a, record_b)
    x, d = schema.xref_version, schema.steward_decision
    with store.engine.begin() as connection:
        known = set(
            connection.execute(select(x.c.unique_id).where(x.c.unique_id.in_([a, b])).distinct())
            .scalars()
            .all()
        )
        for record in (a, b):
            if record not in known:
                raise StoreError(f"unknown record {record}: no run has seen it")
        earlier = connection.execute(select(d).where(d.c.record_a == a, d.c.record_b == b)).first()
        if earlier is not None:
            if earlier.decision == decision:
                return dict(earlier._mapping)
            raise StoreError(
                f"{a} and {b} were decided '{earlier.decision}' by {earlier.decided_by} on "
                f"{earlier.decided_at}; refusing '{decision}'"
            )
        made = pd.read_sql(select(d), connection)
        same = [(r.record_a, r.record_b) for r in made.itertuples() if r.decision == "same"]
        different = [
            (r.record_a, r.record_b) for r in made.itertuples() if r.decision == "different"
        ]
        if decision == "same":
            same.append((a, b))
        else:
            different.append((a, b))
        group = connected_groups(same)
        for p, q in different:
            if p in group and q in group and group[p] == group[q]:
                raise StoreError(
                    f"'{decision}' for {a} and {b} contradicts earlier decisions: {p} and {q} "
                    "were decided different people, and 'same' decisions would join them"
                )
        row = {
            "record_a": a,
            "record_b": b,
            "decision": decision,
            "decided_by": by,
            "decided_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": reason,
        }
        connection.execute(insert(d).values(**row))
    return row


def queue(store: GoldenStore, limit: int | None = None) -> pd.DataFrame:
    """The latest accepted run's review pairs that no steward has decided yet, strongest
    first (a night still waiting for its gate has no queue yet)."""
    r, d, runs = schema.review_item, schema.steward_decision, schema.store_run
    with store.engine.connect() as connection:
        accepted = select(func.max(runs.c.sequence)).where(runs.c.status == "accepted")
        latest = connection.execute(
            select(runs.c.run_key).where(runs.c.sequence == accepted.scalar_subquery())
        ).scalar()
        if latest is None:
            return pd.DataFrame(columns=["record_a", "record_b", "match_probability", "reason"])
        decided = select(d.c.decision_id).where(
            d.c.record_a == r.c.record_a, d.c.record_b == r.c.record_b
        )
        query = (
            select(r.c.record_a, r.c.record_b, r.c.match_probability, r.c.reason, r.c.run_key)
            .where(r.c.run_key == latest, ~decided.exists())
            .order_by(r.c.match_probability.desc(), r.c.record_a, r.c.record_b)
        )
        if limit:
            query = query.limit(limit)
        return pd.read_sql(query, connection)


def item(store: GoldenStore, record_a: str, record_b: str) -> dict:
    """One review pair with both records' values and the model's weights, latest run first."""
    a, b = _pair(record_a, record_b)
    r, d = schema.review_item, schema.review_detail
    with store.engine.connect() as connection:
        row = connection.execute(
            select(r, d.c.detail)
            .outerjoin(d, d.c.detail_hash == r.c.detail_hash)
            .where(r.c.record_a == a, r.c.record_b == b)
            .order_by(r.c.run_key.desc())
            .limit(1)
        ).first()
    if row is None:
        raise StoreError(f"no review pair {a} and {b} in any run")
    found = dict(row._mapping)
    found["detail"] = json.loads(found["detail"]) if found["detail"] else {}
    return found


def side_by_side(found: dict) -> pd.DataFrame:
    """Both records' values per compared field, with the match weight each comparison gave
    (Splink's ``mw_`` columns, term-frequency adjustment included)."""
    detail = found["detail"]
    hidden = ("unique_id", "source_system", "source_record_id")
    fields = sorted(
        k[:-2]
        for k in detail
        if k.endswith("_l") and k[:-2] + "_r" in detail and not k.startswith(("tf_", "gamma_"))
    )
    fields = [f for f in fields if f not in hidden and not f.endswith(("_variants", "_parts"))]
    compared = sorted(
        k[3:] for k in detail if k.startswith("mw_") and not k.startswith("mw_tf_adj_")
    )

    def weight(comparison: str) -> float | None:
        value = detail.get(f"mw_{comparison}")
        if not isinstance(value, int | float):
            return None
        value += detail.get(f"mw_tf_adj_{comparison}") or 0
        return round(value, 2)

    rows = [
        {
            "field": field,
            found["record_a"]: detail.get(f"{field}_l"),
            found["record_b"]: detail.get(f"{field}_r"),
            "match weight": weight(field) if field in compared else None,
        }
        for field in fields
    ]
    for comparison in (c for c in compared if c not in fields):
        # A comparison over several columns (the address: UPRN, postcode, first line) has
        # a weight but no single value; its columns are listed above.
        rows.append(
            {
                "field": f"{comparison} (compared together)",
                found["record_a"]: None,
                found["record_b"]: None,
                "match weight": weight(comparison),
            }
        )
    rows.append(
        {
            "field": "total match weight",
            found["record_a"]: None,
            found["record_b"]: None,
            "match weight": round(detail.get("match_weight") or 0, 2),
        }
    )
    return pd.DataFrame(rows)
