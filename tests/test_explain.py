"""Explanations: a waterfall page per pair or cluster that works offline."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from devtools.generate import generate
from devtools.generate.canonical_sample import canonical_records
from golden_record.cli import app
from golden_record.matching.explain import ExplainError, pairs_for
from golden_record.matching.stage import match_records

runner = CliRunner()


@pytest.fixture(scope="module")
def match_dir(tmp_path_factory):
    work = tmp_path_factory.mktemp("explain")
    data = generate(300, 21, work / "gen")
    output = match_records(canonical_records(data.out))
    output.result.pairs.to_parquet(work / "scored_pairs.parquet")
    output.xref.to_parquet(work / "xref.parquet")
    return work, output


def test_pair_explanation_is_a_self_contained_page(match_dir):
    work, output = match_dir
    top = output.result.pairs.sort_values("match_probability").iloc[-1]
    page = work / "pair.html"
    result = runner.invoke(
        app,
        [
            "explain",
            "--match-dir",
            str(work),
            "--pair",
            top.unique_id_r,
            top.unique_id_l,
            "--out",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert top.unique_id_l in text and "match probability" in text
    assert not re.search(r'<script[^>]+src="http', text)  # no CDN: opens offline
    assert "vega" in text


def test_cluster_explanation_covers_its_pairs(match_dir):
    work, output = match_dir
    sizes = output.xref.groupby("cluster_id").size()
    cluster = sizes[sizes >= 3].index[0]
    page = work / "cluster.html"
    result = runner.invoke(
        app, ["explain", "--match-dir", str(work), "--cluster", cluster, "--out", str(page)]
    )
    assert result.exit_code == 0, result.output
    assert page.read_text().count("<li>") >= 2


def test_unscored_pair_has_nothing_to_explain(match_dir):
    _, output = match_dir
    with pytest.raises(ExplainError, match="not scored"):
        pairs_for(output.result.pairs, "revenues:nobody", "portal:nobody")
    assert isinstance(output.result.pairs, pd.DataFrame)


def test_a_mistyped_record_id_or_folder_is_named(match_dir, tmp_path):
    work, output = match_dir
    known = output.result.pairs.iloc[0].unique_id_l
    result = runner.invoke(
        app,
        ["explain", "--match-dir", str(work), "--pair", known, "revenues:CTP9999999"]
        + ["--out", str(tmp_path / "p.html")],
    )
    assert result.exit_code == 2
    said = "".join(result.output.replace("│", "").split())
    assert "norecordrevenues:CTP9999999inthismatch(amistypedid?" in said
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(
        app, ["explain", "--match-dir", str(empty), "--cluster", "x", "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 2
    assert "noscored_pairs.parquetin" in "".join(result.output.replace("│", "").split())
