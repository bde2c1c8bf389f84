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
