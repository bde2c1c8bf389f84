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


# Sizes up to this many records get a bar each; larger ones share two bars, so the axis
# stays legible whatever a night holds (a bulk load of hundreds of identical records).
ONE_BAR_EACH = 10
MAX_RECORDS_PER_PERSON_BAND = 25


def _size_label(size: int) -> str:
    if size <= ONE_BAR_EACH:
        return str(size)
    if size <= MAX_RECORDS_PER_PERSON_BAND:
        return f"{ONE_BAR_EACH + 1}–{MAX_RECORDS_PER_PERSON_BAND}"
    return f"over {MAX_RECORDS_PER_PERSON_BAND}"


def cluster_sizes(sizes: pd.Series) -> str | None:
    """How many golden records rest on 1, 2, 3… source records (log scale: a council's
    singles outnumber its pairs a hundredfold)."""
    if sizes.empty:
        return None
    counts = sizes.astype(int).value_counts().sort_index()
    labels = [_size_label(int(size)) for size in counts.index]
    frame = (
        pd.DataFrame({"records per person": labels, "people": counts.to_numpy()})
        .groupby("records per person", sort=False, as_index=False)["people"]
        .sum()
    )
    order = list(dict.fromkeys(labels))
    most = int(frame["people"].max())
    ticks = [10**k for k in range(len(str(most)) + 1)]
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "records per person:O",
                title="source records per golden record",
                sort=order,
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y(
                "people:Q",
                title="golden records",
                scale=alt.Scale(type="log", domainMin=1),
                axis=alt.Axis(values=ticks, format=",d"),
            ),
            # A log scale has no zero: each bar stands on 1.
            y2=alt.datum(1),
            tooltip=["records per person", alt.Tooltip("people:Q", format=",d")],
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
            x=alt.X(
                "from:Q",
                bin="binned",
                title="match weight (bits)",
                axis=alt.Axis(tickCount=8, labelOverlap="greedy", format="~d"),
            ),
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
        .encode(
            x="match weight:Q",
            color=alt.Color(
                "band:N",
                title="threshold",
                # Below the chart, whole: beside it a narrow page cut the labels short.
                legend=alt.Legend(orient="bottom", labelLimit=0, direction="horizontal"),
            ),
        )
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
