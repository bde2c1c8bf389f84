"""The report's charts, drawn with Altair and rendered to inline SVG (no CDN, no script).

Vega-Lite renders offline through ``vl-convert``, so the page works on a machine with no
internet, opened from disk or served by the Airflow plugin.
"""

from __future__ import annotations

import altair as alt
import numpy as np
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


# A log scale has no zero: bars stand on a half, so a size only one golden record has
# still draws a bar (from a half to one) instead of a line of no height.
_BAR_FLOOR = 0.5


def cluster_sizes(sizes: pd.Series) -> str | None:
    """How many golden records rest on 1, 2, 3… source records (log scale: a council's
    singles outnumber its pairs a hundredfold), each bar labelled with its count."""
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
    base = alt.Chart(frame).encode(
        x=alt.X(
            "records per person:O",
            title="source records per golden record",
            sort=order,
            axis=alt.Axis(labelAngle=0),
        ),
        y=alt.Y(
            "people:Q",
            title="golden records",
            # Headroom above the tallest bar for its count.
            scale=alt.Scale(type="log", domain=[_BAR_FLOOR, most * 4]),
            axis=alt.Axis(values=ticks, format=",d"),
        ),
    )
    bars = base.mark_bar().encode(
        y2=alt.datum(_BAR_FLOOR),
        tooltip=["records per person", alt.Tooltip("people:Q", format=",d")],
    )
    counts_on_bars = base.mark_text(dy=-6, fontSize=10).encode(
        text=alt.Text("people:Q", format=",d")
    )
    return _svg((bars + counts_on_bars).properties(width=_WIDTH, height=_HEIGHT))


MATCH_WEIGHT_BINS = 40
# The second panel spans the thresholds and this many bits either side, one bin a bit:
# the doubtful band is a few bits wide on an axis that runs to seventy.
NEAR_THRESHOLDS_BITS = 8


def _weight_histogram(
    weights: np.ndarray, edges: np.ndarray, title: str, thresholds: pd.DataFrame, width: int
) -> alt.LayerChart | alt.FacetChart:
    bands = list(thresholds["band"])
    counts, _ = np.histogram(weights, bins=edges)
    frame = pd.DataFrame({"from": edges[:-1], "to": edges[1:], "pairs": counts})
    bars = (
        alt.Chart(frame, title=alt.Title(title, fontSize=11, anchor="start"))
        .mark_bar()
        .encode(
            x=alt.X(
                "from:Q",
                bin="binned",
                title="match weight (bits)",
                scale=alt.Scale(domain=[float(edges[0]), float(edges[-1])], nice=False),
                axis=alt.Axis(tickCount=8, labelOverlap="greedy", format="~d"),
            ),
            x2="to:Q",
            y=alt.Y("pairs:Q", title="scored pairs"),
            tooltip=["from", "to", "pairs"],
        )
    )
    lines = (
        alt.Chart(thresholds)
        .mark_rule(strokeWidth=2)
        .encode(
            x="match weight:Q",
            color=alt.Color(
                "band:N",
                title="threshold",
                scale=alt.Scale(domain=bands, range=["#f47738", "#00703c"]),
                # Below the chart, whole: beside it a narrow page cut the labels short.
                legend=alt.Legend(orient="bottom", labelLimit=0, direction="horizontal"),
            ),
            strokeDash=alt.StrokeDash(
                "band:N",
                scale=alt.Scale(domain=bands, range=[[5, 3], [1, 0]]),
                legend=None,
            ),
        )
    )
    return alt.layer(bars, lines, width=width, height=_HEIGHT)


def match_weights(weights: pd.Series, auto_weight: float, review_weight: float) -> str | None:
    """Histogram of the scored pairs' match weights with the two band thresholds: every
    pair on the left, and on the right the few bits around the thresholds, where the two
    lines (distinct in colour and dash) sit apart.

    Binned here, not by Vega-Lite: a night at a county's size scores over half a million
    pairs, and Altair refuses a frame of more than 5,000 rows (a chart of every pair would
    not draw anyway).
    """
    values = weights.dropna().astype(float).to_numpy()
    if values.size == 0:
        return None
    bands = [f"review from {review_weight:.1f} bits", f"auto-match from {auto_weight:.1f} bits"]
    thresholds = pd.DataFrame({"match weight": [review_weight, auto_weight], "band": bands})
    low = min(float(values.min()), review_weight)
    high = max(float(values.max()), auto_weight)
    if high <= low:
        high = low + 1
    every = _weight_histogram(
        values,
        np.linspace(low, high, MATCH_WEIGHT_BINS + 1),
        "every scored pair",
        thresholds,
        _WIDTH // 2 + 40,
    )
    near_low = np.floor(min(review_weight, auto_weight)) - NEAR_THRESHOLDS_BITS
    near_high = np.ceil(max(review_weight, auto_weight)) + NEAR_THRESHOLDS_BITS
    near = _weight_histogram(
        values[(values >= near_low) & (values <= near_high)],
        np.arange(near_low, near_high + 1),
        f"around the thresholds ({near_low:.0f} to {near_high:.0f} bits)",
        thresholds,
        _WIDTH // 2 + 40,
    )
    return _svg(alt.hconcat(every, near).resolve_scale(color="shared", strokeDash="shared"))


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
