"""How many pairs each prediction blocking rule creates, and how many true pairs it reaches.

Splink scores only pairs that agree on at least one blocking rule; each rule's marginal
count is the pairs it adds beyond the rules before it. Counted by Splink's own blocking
analysis, on the same database API as prediction. Where the truth is known (benchmarks),
:func:`blocking_recall` says what share of true pairs any rule brings together: a true
pair no rule reaches can never be matched, whatever the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from golden_record.matching.backend import default_db_api, register
from golden_record.matching.model import columns_held, loose_rules_within, prediction_rules


def _count(table: Any, rules: Sequence[Any], sample: float) -> list:
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    return count_comparisons_from_blocking_rules(
        table, blocking_rules=list(rules), link_type="dedupe_only", record_sample_proportion=sample
    )


def pairs_blocked(table: Any, rule: Any) -> int:
    """Exactly how many pairs one rule brings together in a registered table."""
    (counted,) = _count(table, [rule], 1.0)
    return int(counted["cumulative_comparison_count"])


def rules_of(model: dict | None, standardised: pd.DataFrame) -> list[Any]:
    """The rules prediction uses on these records: the model's (or, with no model, those
    the records' columns allow), then the loose rules their size allows."""
    if model is not None:
        rules = [rule["blocking_rule"] for rule in model["blocking_rules_to_generate_predictions"]]
    else:
        rules = [rule.rule for rule in prediction_rules(columns_held(standardised))]
    return rules + [rule.rule for rule in loose_rules_within(standardised)]


def blocking_rule_counts(
    standardised: pd.DataFrame,
    *,
    sample: float = 1.0,
    db_api: Any = None,
    model: dict | None = None,
) -> pd.DataFrame:
    """One row per prediction rule: its SQL, marginal and cumulative pair counts.

    ``sample`` below 1 estimates from that share of records on each side (Splink's
    ``record_sample_proportion``), for quick looks at very large inputs.
    """
    db_api = db_api or default_db_api()
    rules = rules_of(model, standardised)
    counted = _count(register(db_api, standardised), rules, sample)
    frame = pd.DataFrame(counted)
    return frame[
        [
            "blocking_rule",
            "marginal_comparison_count",
            "cumulative_comparison_count",
            "total_possible_comparison_count",
            "is_estimate",
        ]
    ]


def blocking_recall(
    standardised: pd.DataFrame, person_of: pd.Series, rules: list[Any], db_api: Any = None
) -> float:
    """Share of true pairs (two records of one person) that at least one rule generates.

    ``person_of``: the true person of each record, indexed by ``unique_id``.
    """
    import duckdb
    from splink.internals.blocking_rule_creator_utils import to_blocking_rule_creator

    conditions = [
        f"({to_blocking_rule_creator(rule).get_blocking_rule('duckdb').blocking_rule_sql})"
        for rule in rules
    ]
    frame = standardised.copy()
    frame["person_id"] = person_of.reindex(frame["unique_id"]).to_numpy()
    frame = frame.dropna(subset=["person_id"])
    frame = frame.astype(object).where(frame.notna(), None)
    connection = duckdb.connect()
    connection.register("records", frame)
    found = connection.execute(
        f"""
        SELECT count(*), count(*) FILTER (WHERE {" OR ".join(conditions) or "false"})
        FROM records l JOIN records r
          ON l.person_id = r.person_id AND l.unique_id < r.unique_id
        """
    ).fetchone()
    total, reached = found if found else (0, 0)
    connection.close()
    return reached / total if total else 1.0


def as_markdown(counts: pd.DataFrame) -> str:
    lines = ["| blocking rule | pairs it adds | cumulative pairs |", "|---|---|---|"]
    for row in counts.itertuples(index=False):
        rule = str(row.blocking_rule).replace("|", "\\|")
        added = int(str(row.marginal_comparison_count))
        cumulative = int(str(row.cumulative_comparison_count))
        lines.append(f"| `{rule}` | {added:,} | {cumulative:,} |")
    total = counts["total_possible_comparison_count"].iloc[-1] if len(counts) else 0
    lines.append(f"\nAll possible pairs: {total:,}.")
    return "\n".join(lines)
