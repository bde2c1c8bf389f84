"""The report's charts, drawn with Altair and rendered to inline SVG (no CDN, no script).

Vega-Lite renders offline through ``vl-convert``, so the page works on a machine with no
internet, opened from disk or served by the Airflow plugin.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_WIDTH = 420
_HEIGHT = 180


def _svg(chart: alt.TopLevelMixin) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.to_dict())


def cluster_sizes(sizes: pd.Series) -> str | None:
    """How many golden records rest on 1, 2, 3… source records."""
    if sizes.empty:
        return None
    counts = sizes.value_counts().sort_index()
    frame = pd.DataFrame({"records per person": counts.index.astype(int), "people": counts.values})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("records per person:O", title="source records per golden record"),
            y=alt.Y("people:Q", title="golden records", scale=alt.Scale(type="symlog")),
            tooltip=["records per person", "people"],
        )
        .properties(width=_WIDTH, height=_HEIGHT)
    )
    return _svg(chart)


MATCH_WEIGHT_BINS = 40


def match_weights(weights: pd.Series, auto_weight: float, review_weight: float) -> str | None:
    """Histogram of the scored pairs' match weights, with the two band thresholds.

    Binned here, not by Vega-Lite: a night at a county's size scores over half a million
    pairs, and Altair refuses a frame of more than 5,000 rows (a chart of every pair would
    not draw anyway).
    """
    import numpy as np

    weights = weights.dropna().astype(float)
    if weights.empty:
        return None
    counts, edges = np.histogram(weights.to_numpy(), bins=MATCH_WEIGHT_BINS)
    frame = pd.DataFrame({"from": edges[:-1], "to": edges[1:], "pairs": counts})
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("from:Q", bin="binned", title="match weight (bits)"),
            x2="to:Q",
            y=alt.Y("pairs:Q", title="scored pairs"),
            tooltip=["from", "to", "pairs"],
        )
    )
    rules = pd.DataFrame(
        {"match weight": [review_weight, auto_weight], "band": ["review from", "auto-match from"]}
    )
    lines = (
        alt.Chart(rules)
        .mark_rule(strokeDash=[4, 3])
        .encode(x="match weight:Q", color=alt.Color("band:N", title="threshold"))
    )
    return _svg((bars + lines).properties(width=_WIDTH, height=_HEIGHT))


def trends(history: pd.DataFrame) -> str | None:
    """Recent runs: one small line chart per measure."""
    if len(history) < 2:
        return None
    long = history.melt(id_vars="run", var_name="measure", value_name="value").dropna()
    chart = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("run:O", title="run"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            tooltip=["run", "measure", "value"],
        )
        .properties(width=200, height=110)
        .facet(facet=alt.Facet("measure:N", title=None), columns=3)
        .resolve_scale(y="independent")
    )
    return _svg(chart)
