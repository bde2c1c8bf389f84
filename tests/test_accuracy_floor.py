"""Accuracy regression floors: smaller versions of ``make bench-accuracy``.

The floors sit just under what the full benchmark measures (docs/benchmarks.md), so a
change that makes matching worse fails here rather than in production.
"""

from __future__ import annotations

import pandas as pd

from dedupe.benchmarks import febrl
from dedupe.benchmarks.accuracy import run, synthetic
from dedupe.matching.inference import Thresholds


def test_synthetic_council_floor(tmp_path):
    records, truth, hard = synthetic(4000, 13, tmp_path)
    outcome = run(
        "synthetic",
        records,
        truth,
        train_on_data=False,
        thresholds=Thresholds(),
        hard_cases=hard,
        sweep=(),
    )
    # Measured 2026-11-23 (sessions 5 and 6): precision 0.9983, recall 0.9626, 3 of 1,104 hard
    # cases merged (79 without the guard).
    assert outcome.scores.precision >= 0.995
    assert outcome.scores.recall >= 0.95
    assert outcome.hard_cases_merged <= 0.005 * len(hard)
    # The household guard is what keeps them apart: without it far more merge.
    assert outcome.unguarded_hard_cases_merged > 5 * max(outcome.hard_cases_merged, 1)


def test_febrl3_floor():
    records, truth = febrl.febrl3()
    assert len(records) == 5000 and truth["person_id"].nunique() == 2000
    outcome = run("FEBRL3", records, truth, train_on_data=True, thresholds=Thresholds(), sweep=())
    # Measured 2026-11-23 (session 5): precision 1.0000, recall 0.9598; 0.9891 unguarded.
    assert outcome.scores.precision >= 0.995
    assert outcome.scores.recall >= 0.955
    assert outcome.unguarded.recall >= 0.985
    assert isinstance(outcome.scores.f1, float) and not pd.isna(outcome.scores.f1)
