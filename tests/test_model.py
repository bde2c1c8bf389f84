"""The model's shape: the same comparisons written for whichever backend trains it."""

from __future__ import annotations

from golden_record.matching.inference import load_model
from golden_record.matching.model import settings


def _swap_level(db_dialect: str) -> str:
    built = settings(db_dialect).get_settings(db_dialect).as_dict()
    (first_name,) = [c for c in built["comparisons"] if c["output_column_name"] == "first_name"]
    (swapped,) = [
        level
        for level in first_name["comparison_levels"]
        if level.get("label_for_charts") == "Forename and surname swapped"
    ]
    return swapped["sql_condition"]


def test_custom_levels_use_the_backends_own_fuzzy_functions():
    assert _swap_level("duckdb").startswith("jaro_winkler_similarity(")
    assert _swap_level("spark").startswith("jaro_winkler(")


def test_the_packaged_model_has_the_shape_the_code_builds():
    packaged = load_model()
    built = settings("duckdb").get_settings("duckdb").as_dict()

    def shape(model: dict) -> list:
        return [
            (c["output_column_name"], [level["sql_condition"] for level in c["comparison_levels"]])
            for c in model["comparisons"]
        ]

    assert shape(packaged) == shape(built)
