"""The ``golden-record`` command line, run as a user would."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from dedupe.cli import app

runner = CliRunner()


def test_generate_then_match_then_evaluate(tmp_path, sample):
    out = tmp_path / "gen"
    result = runner.invoke(app, ["generate", "--people", "400", "--seed", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "truth" / "ground_truth.csv").is_file()

    # Canonical records straight from the two SQL sources, as a user might export them.
    from dedupe.settings import SourceSettings
    from dedupe.sources import EXTRACTORS

    settings = SourceSettings(
        revenues_url=f"sqlite:///{out / 'revenues.db'}",
        housing_url=f"sqlite:///{out / 'housing.db'}",
        waste_drop_dir=out,
        portal_base_url="http://unused",
        portal_token="unused",
    )
    frames = [
        EXTRACTORS[s].to_canonical(EXTRACTORS[s].extract(settings, None, None))
        for s in ("revenues", "housing")
    ]
    persons = tmp_path / "persons.csv"
    pd.concat(frames).to_csv(persons, index=False)

    result = runner.invoke(
        app, ["match", "--input", str(persons), "--output-dir", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    xref = pd.read_parquet(tmp_path / "m" / "xref.parquet")
    assert {"source_system", "source_record_id", "golden_id", "cluster_id"} <= set(xref.columns)
    assert len(xref) == sum(len(f) for f in frames)

    result = runner.invoke(
        app, ["evaluate", "--xref", str(tmp_path / "m" / "xref.parquet"), "--truth", str(out)]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["precision"] > 0.9 and scores["recall"] > 0.8


def test_match_refuses_a_file_that_is_not_canonical(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,dob\nJane,1980-01-01\n")
    result = runner.invoke(app, ["match", "--input", str(bad), "--output-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "canonical columns missing" in str(result.exception)
