"""How many pairs each prediction blocking rule creates, for docs and capacity planning.

Splink scores only pairs that agree on at least one blocking rule; each rule's marginal
count is the pairs it adds beyond the rules before it. Counted by Splink's own blocking
analysis, on the same database API as prediction.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dedupe.matching.backend import default_db_api, register
from dedupe.matching.model import PREDICTION_BLOCKING_RULES


def _count(table: Any, rules, sample: float) -> list:
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    return count_comparisons_from_blocking_rules(
        table, blocking_rules=list(rules), link_type="dedupe_only", record_sample_proportion=sample
    )


def pairs_blocked(table: Any, rule: Any) -> int:
    """Exactly how many pairs one rule brings together in a registered table."""
    (counted,) = _count(table, [rule], 1.0)
    return int(counted["cumulative_comparison_count"])


def blocking_rule_counts(
    standardised: pd.DataFrame, *, sample: float = 1.0, db_api: Any = None
) -> pd.DataFrame:
    """One row per prediction rule: its SQL, marginal and cumulative pair counts.

    ``sample`` below 1 estimates from that share of records on each side (Splink's
    ``record_sample_proportion``), for quick looks at very large inputs.
    """
    db_api = db_api or default_db_api()
    counted = _count(register(db_api, standardised), PREDICTION_BLOCKING_RULES, sample)
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


def as_markdown(counts: pd.DataFrame) -> str:
    lines = ["| blocking rule | pairs it adds | cumulative pairs |", "|---|---|---|"]
    for row in counts.itertuples(index=False):
        rule = row.blocking_rule.replace("|", "\\|")
        added, cumulative = row.marginal_comparison_count, row.cumulative_comparison_count
        lines.append(f"| `{rule}` | {added:,} | {cumulative:,} |")
    total = counts["total_possible_comparison_count"].iloc[-1] if len(counts) else 0
    lines.append(f"\nAll possible pairs: {total:,}.")
    return "\n".join(lines)
