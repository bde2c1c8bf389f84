"""Explain a match: Splink's waterfall chart for a pair or a cluster, as one HTML page.

The page embeds its chart library (no CDN), so a reviewer can open it offline. It shows
how each comparison (name, date of birth, address…) moved the match weight.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd
from splink import Linker

from golden_record.atomic import write_text
from golden_record.keys import held_in
from golden_record.matching.backend import default_db_api
from golden_record.standardise.fields import MATCH_COLUMNS


class ExplainError(ValueError):
    """There is nothing to explain for what was asked."""


def pairs_for(scored: pd.DataFrame, unique_id_a: str, unique_id_b: str) -> pd.DataFrame:
    left, right = sorted((unique_id_a, unique_id_b))
    found = scored[
        ((scored["unique_id_l"] == left) & (scored["unique_id_r"] == right))
        | ((scored["unique_id_l"] == right) & (scored["unique_id_r"] == left))
    ]
    if found.empty:
        raise ExplainError(
            f"records {unique_id_a} and {unique_id_b} were not scored at or above the review "
            "threshold (not blocked together, or too unlike): there is no match to explain"
        )
    return found


def pairs_in_cluster(scored: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    inside = held_in(scored["unique_id_l"], members) & held_in(scored["unique_id_r"], members)
    found = scored[inside].sort_values("match_probability", ascending=False)
    if found.empty:
        raise ExplainError(f"the cluster of {len(members)} record(s) has no scored pairs")
    return found


def _records(pairs: pd.DataFrame) -> list[dict]:
    def plain(value: object) -> object:
        if isinstance(value, float) and math.isnan(value):
            return None
        if hasattr(value, "tolist"):
            return value.tolist()
        return value

    return [{k: plain(v) for k, v in row.items()} for row in pairs.to_dict(orient="records")]


def waterfall_page(pairs: pd.DataFrame, model: dict, title: str, out: Path) -> Path:
    """Write a self-contained HTML page with the waterfall chart of ``pairs``."""
    db_api = default_db_api()
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in MATCH_COLUMNS})
    linker = Linker(db_api.register(empty), model, log_level=None)
    chart = linker.visualisations.waterfall_chart(_records(pairs), filter_nulls=False)
    import vl_convert

    chart_html = vl_convert.vegalite_to_html(chart.chart_dict, bundle=True)
    summary = "".join(
        f"<li>{html.escape(str(r.unique_id_l))} ↔ {html.escape(str(r.unique_id_r))}: "
        f"match probability {r.match_probability:.4f} (weight {r.match_weight:.2f})</li>"
        for r in pairs.itertuples()
    )
    header = (
        f"<h1>{html.escape(title)}</h1><ul>{summary}</ul>"
        "<p>Each bar is one comparison's contribution to the match weight; use the slider "
        "to move between pairs. A match here may indicate an inconsistency: nothing is "
        "assumed until a person has checked it.</p>"
    )
    # The bundled chart library itself contains the text "<body>"; the page's own body
    # tag is the last one.
    at = chart_html.rindex("<body>") + len("<body>")
    page = chart_html[:at] + header + chart_html[at:]
    return write_text(page, out)
