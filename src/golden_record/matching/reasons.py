"""A pair's comparisons in a steward's words: "same date of birth (+9.8)", "first name
spelt nearly the same (+4.1)", "different postcode (-3.2)", from the model's own level
labels and the weights Splink gave the pair. Said by the search's candidates and by the
review's pairs and items."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import pandas as pd

FIELD_WORDS = {
    "first_name": "first name",
    "middle_names": "middle names",
    "date_of_birth": "date of birth",
    "ni_number": "NI number",
    "sex_from_title": "title",
}


def level_words(comparison: str, label: str) -> str:
    """A comparison level as a steward says it: "same surname", "date of birth: day and
    month swapped", "different postcode"."""
    field = FIELD_WORDS.get(comparison, comparison.replace("_", " "))
    text = label.strip()
    if text.lower().startswith("exact match"):
        return f"same {field}"
    if text == "All other comparisons":
        return f"different {field}"
    if "Jaro-Winkler" in text:
        close = ">= 0.9" in text
        return f"{field} spelt {'nearly the same' if close else 'similarly'}"
    words = text[0].lower() + text[1:]
    return words if field.split()[0] in words or comparison == "address" else f"{field}: {words}"


def level_labels(model: dict) -> dict[str, dict[int, str]]:
    """Each comparison's levels by their comparison vector value (Splink numbers the
    non-null levels from the last, 0, up; the null level is -1)."""
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        labels[comparison["output_column_name"]] = {
            len(levels) - 1 - i: str(level.get("label_for_charts", ""))
            for i, level in enumerate(levels)
        }
    return labels


def reasons_in_words(
    pair: Mapping[str, Any] | pd.Series, labels: dict[str, dict[int, str]]
) -> list[str]:
    """The comparisons that weighed most, for or against (four at most), in words with
    their weight: "same date of birth (+9.8)", "first name: one letter differs (+4.1)",
    "different postcode (-3.2)"."""
    weights = {
        column[3:]: float(pair[column])
        for column in (pair.index if isinstance(pair, pd.Series) else pair.keys())
        if column.startswith("mw_") and not column.startswith("mw_tf_adj")
        and isinstance(pair[column], numbers.Real) and pd.notna(pair[column])
        and float(pair[column]) != 0.0
    }  # fmt: skip
    strongest = sorted(weights.items(), key=lambda item: abs(item[1]), reverse=True)[:4]
    said = []
    for name, weight in strongest:
        weight += float(pair.get(f"mw_tf_adj_{name}") or 0)
        gamma = pair.get(f"gamma_{name}")
        label = labels.get(name, {}).get(int(gamma)) if pd.notna(gamma) else None
        words = (
            level_words(name, label)
            if label
            else f"{FIELD_WORDS.get(name, name.replace('_', ' '))} "
            + ("agrees" if weight > 0 else "disagrees")
        )
        said.append(f"{words} ({weight:+.1f})")
    return said
