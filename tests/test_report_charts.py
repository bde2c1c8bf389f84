"""The run report's charts draw at any size (what they are fed is aggregated first), and
every value in them can be seen."""

from __future__ import annotations

import re

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
    assert ">auto-match from 4.2 bits<" in svg and ">review from 2.0 bits<" in svg


def _bars(svg: str) -> dict[str, float]:
    """Each bar's x label and drawn height in pixels (from Vega's accessible SVG)."""
    found = re.findall(
        r'aria-label="source records per golden record: ([^;]+);[^"]*"[^>]*'
        r'aria-roledescription="bar" d="M[-\d.]+,[-\d.]+h[-\d.]+v([-\d.]+)',
        svg,
    )
    return {label: float(height) for label, height in found}


def test_a_size_only_one_golden_record_has_draws_a_bar_with_its_count():
    # The demo's night: one golden record rests on six source records, beside a thousand
    # singles (on a log scale standing on 1, its bar had no height).
    svg = charts.cluster_sizes(pd.Series([1] * 1000 + [2] * 80 + [3] * 9 + [6]))
    bars = _bars(svg)
    assert set(bars) == {"1", "2", "3", "6"}
    assert min(bars.values()) >= 8, bars  # pixels: as tall as a line of text
    assert bars["1"] > bars["2"] > bars["3"] > bars["6"]
    counts = re.findall(r'aria-roledescription="text mark"[^>]*>([^<]+)<', svg)
    assert {"1,000", "80", "9", "1"} <= set(counts), counts


def _threshold_lines(svg: str) -> list[tuple[str, float]]:
    return [
        (band, float(x))
        for band, x in re.findall(
            r'aria-label="match weight: [^;]+; threshold: [^;]+; band: ([^"]+)"[^>]*'
            r'transform="translate\(([-\d.]+),',
            svg,
        )
    ]


def test_the_two_thresholds_can_be_told_apart_on_a_night_scoring_up_to_seventy_bits():
    # Pairs from -30 to +70 bits, thresholds 2 bits apart: on one axis they were 5 px apart.
    rng = np.random.default_rng(4)
    weights = pd.Series(np.concatenate([rng.normal(-10, 6, 20_000), rng.uniform(20, 70, 4_000)]))
    svg = charts.match_weights(weights, auto_weight=4.25, review_weight=2.0)
    lines = _threshold_lines(svg)
    # Each threshold in both panels: every pair, and the bits around the thresholds.
    assert [band for band, _ in lines].count("review from 2.0 bits") == 2
    every, near = lines[:2], lines[2:]
    assert abs(every[1][1] - every[0][1]) < 10  # squeezed on the whole axis…
    assert abs(near[1][1] - near[0][1]) >= 25  # …and apart around them
    # Told apart by more than position: a colour and a dash each.
    styles = re.findall(
        r'aria-roledescription="rule mark"[^>]*stroke="([^"]+)"[^>]*'
        r'stroke-dasharray="([^"]+)"',
        svg,
    )
    assert len(set(styles)) == 2, styles
