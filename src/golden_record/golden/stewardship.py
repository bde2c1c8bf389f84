"""Clerical review: the queue of doubtful pairs and stewards' decisions about them.

A steward says two records are the 'same' person or 'different' people, with who, when
and why, and may undo a decision (kept, with who undid it and why; the pair undecided
again). Decisions are kept in the golden store and honoured by every later run whatever
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

from golden_record.extract.declaration import record_id_problem
from golden_record.golden.store import GoldenStore, StoreError
from golden_record.matching.clustering import connected_groups
from golden_record.matching.precedents import Precedents

DECISIONS = ("same", "different")


@dataclass(frozen=True)
class Links:
    must: set[frozenset[str]]
    cannot: set[frozenset[str]]


def _pair(a: str, b: str) -> tuple[str, str]:
    for record in (a, b):
        problem = record_id_problem(record)
        if problem:
            raise StoreError(problem)
    return (a, b) if a <= b else (b, a)


def decisions(store: GoldenStore) -> pd.DataFrame:
    return store.decisions()


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
    decided = store.decisions_with_detail()
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
    return decide_many(store, [(record_a, record_b)], decision, by, reason)[0]


def decide_many(
    store: GoldenStore, pairs: list[tuple[str, str]], decision: str, by: str, reason: str
) -> list[dict]:
    """Record one decision about many pairs (a steward's bulk decision over a filtered
    queue) in one transaction: every pair decided, or, when any is refused (the message
    names it), none. A pair already decided the same way is left as it was."""
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if not by.strip() or not reason.strip():
        raise StoreError("a decision needs who made it (--by) and why (--reason)")
    if not pairs:
        raise StoreError("no pair to decide")
    for record_a, record_b in pairs:
        if record_a == record_b:
            raise StoreError(f"a record is always the same as itself: {record_a}")
    ordered = list(dict.fromkeys(_pair(a, b) for a, b in pairs))
    decided_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.transaction() as connection:
        known = store.records_seen(connection, sorted({r for pair in ordered for r in pair}))
        for a, b in ordered:
            for record in (a, b):
                if record not in known:
                    raise StoreError(f"unknown record {record}: no run has seen it")
        made = store.decisions(connection)
        same = [(r.record_a, r.record_b) for r in made.itertuples() if r.decision == "same"]
        different = [
            (r.record_a, r.record_b) for r in made.itertuples() if r.decision == "different"
        ]
        answers, new = [], []
        for a, b in ordered:
            earlier = store.decision_of(connection, a, b)
            if earlier is not None:
                if earlier["decision"] != decision:
                    raise StoreError(
                        f"{a} and {b} were decided '{earlier['decision']}' by "
                        f"{earlier['decided_by']} on {earlier['decided_at']}; refusing "
                        f"'{decision}' (undo that decision first: golden-record review undo)"
                    )
                answers.append(earlier)
                continue
            row = {
                "record_a": a,
                "record_b": b,
                "decision": decision,
                "decided_by": by,
                "decided_at": decided_at,
                "reason": reason,
            }
            (same if decision == "same" else different).append((a, b))
            new.append(row)
            answers.append(row)
        group = connected_groups(same)
        for p, q in different:
            if p in group and q in group and group[p] == group[q]:
                raise StoreError(
                    f"'{decision}' for {_named(new)} contradicts earlier decisions: {p} "
                    f"and {q} were decided different people, and 'same' decisions would "
                    "join them"
                )
        for row in new:
            store.insert_decision(connection, row)
    return answers


def _named(rows: list[dict]) -> str:
    shown = " ; ".join(f"{r['record_a']} and {r['record_b']}" for r in rows[:3])
    return shown + (f" (and {len(rows) - 3} more pairs)" if len(rows) > 3 else "")


def undo(store: GoldenStore, record_a: str, record_b: str, by: str, reason: str) -> dict:
    """Undo the decision about two records: it is kept, with who undid it and why, and
    the pair is undecided again (back in the queue while the latest night holds it, the
    model's call the next night) and may be decided afresh. Refused, writing nothing,
    when no decision about the pair is in force."""
    if not by.strip() or not reason.strip():
        raise StoreError("undoing a decision needs who (--by) and why (--reason)")
    a, b = _pair(record_a, record_b)
    with store.transaction() as connection:
        earlier = store.decision_of(connection, a, b)
        if earlier is None:
            raise StoreError(f"no decision about {a} and {b} is in force: nothing to undo")
        undone = {
            "undone_by": by,
            "undone_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "undo_reason": reason,
        }
        store.move_to_undone(connection, earlier, undone)
    return {**earlier, **undone}


def queue(store: GoldenStore, limit: int | None = None) -> pd.DataFrame:
    """The latest accepted run's review pairs that no steward has decided yet, strongest
    first (a night still waiting for its gate has no queue yet)."""
    return store.review_queue(limit)


def item(store: GoldenStore, record_a: str, record_b: str) -> dict:
    """One review pair with both records' values and the model's weights, latest run first."""
    a, b = _pair(record_a, record_b)
    found = store.review_pair(a, b)
    if found is None:
        raise StoreError(f"no review pair {a} and {b} in any run")
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
    total = float(detail.get("match_weight") or 0)
    compared_sum = sum(weight(c) or 0 for c in compared)
    # The model's starting point before any comparison: how seldom two records picked at
    # random are one person (Splink's prior). The comparisons' weights add to it.
    rows.append(
        {
            "field": "starting point (two records at random)",
            found["record_a"]: None,
            found["record_b"]: None,
            "match weight": round(total - compared_sum, 2),
        }
    )
    rows.append(
        {
            "field": "total match weight",
            found["record_a"]: None,
            found["record_b"]: None,
            "match weight": round(total, 2),
        }
    )
    return pd.DataFrame(rows)
