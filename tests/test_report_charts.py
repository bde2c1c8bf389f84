"""The run report's charts draw at any size: what they are fed is aggregated first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from golden_record.reporting import charts


def test_match_weights_of_a_county_sized_night_are_drawn():
    # More pairs than Altair takes unbinned (5,000 rows): a county's night scores 585,108.
    weights = pd.Series(np.random.default_rng(1).normal(8, 6, 600_000))
    svg = charts.match_weights(weights, auto_weight=4.25, review_weight=2.0)
    assert svg is not None and svg.startswith("<svg") and "scored pairs" in svg


def test_cluster_sizes_of_a_million_golden_records_are_drawn():
    sizes = pd.Series(np.random.default_rng(2).integers(1, 9, 1_000_000))
    svg = charts.cluster_sizes(sizes)
    assert svg is not None and "golden records" in svg


def test_the_cluster_size_axis_stays_legible_whatever_the_sizes():
    # A bulk load of 400 identical records and people of every size up to 60.
    sizes = pd.Series([1] * 50_000 + list(range(2, 61)) * 30 + [400])
    svg = charts.cluster_sizes(sizes)
    labels = {"1", "10", "11–25", "over 25"}
    assert all(f">{label}<" in svg for label in labels)
    assert ">37<" not in svg  # sizes past 10 share two bars instead of a bar each
    assert all(f">{tick}<" in svg for tick in ("1", "10", "100", "1,000", "10,000"))


def test_the_match_weight_legend_is_drawn_whole():
    weights = pd.Series(np.random.default_rng(3).normal(8, 6, 10_000))
    svg = charts.match_weights(weights, auto_weight=4.25, review_weight=2.0)
    assert ">auto-match from<" in svg and ">review from<" in svg
