"""A trained model's SQL in another backend's dialect (DuckDB's to Spark's), its trained
probabilities kept.

A model is trained and kept with DuckDB's SQL (``"first_name_l" = "first_name_r"``,
``jaro_winkler_similarity``, ``list_intersect``). Spark reads a double-quoted name as a
string and names those functions otherwise, so each comparison level takes the SQL that
:func:`golden_record.matching.model.settings` writes for the other dialect (Splink's own
comparison library translating its levels) for the level of the same comparison and label;
a level the builder does not know (a model trained by an older version) is translated by
sqlglot. Blocking rules carry their dialect and Splink translates them itself.
"""

from __future__ import annotations

import copy
from typing import Any

import sqlglot


class DialectError(ValueError):
    """A model's level cannot be written for the other backend."""


def _levels_for(dialect: str) -> dict[tuple[str, str], str]:
    from golden_record.matching.model import settings

    built = settings(dialect).get_settings(dialect).as_dict()
    return {
        (comparison["output_column_name"], level.get("label_for_charts", "")): level[
            "sql_condition"
        ]
        for comparison in built["comparisons"]
        for level in comparison["comparison_levels"]
    }


def for_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """``model`` (Splink's settings JSON, trained) with its SQL written for ``dialect``."""
    written = model.get("sql_dialect", "duckdb")
    if written == dialect:
        return model
    levels = _levels_for(dialect)
    out = copy.deepcopy(model)
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            condition = level["sql_condition"]
            if condition.strip().upper() == "ELSE":
                continue
            key = (comparison["output_column_name"], level.get("label_for_charts", ""))
            if key in levels:
                level["sql_condition"] = levels[key]
                continue
            try:
                level["sql_condition"] = sqlglot.transpile(condition, read=written, write=dialect)[
                    0
                ]
            except sqlglot.errors.ParseError as exc:
                raise DialectError(
                    f"level {key[1]!r} of comparison {key[0]!r} cannot be written for "
                    f"{dialect}: {exc}"
                ) from None
    out["sql_dialect"] = dialect
    return out
