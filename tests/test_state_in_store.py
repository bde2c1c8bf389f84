"""A run finds the state it builds on through the golden store, not its own folder.

``golden-record match --store`` keeps golden IDs in a store "across runs"; the state an
incremental run needs (the last accepted run's standardised records, scoring and model)
is found through that store, so a second run writing to a new output folder is
incremental, and gives what a full re-match of the same records gives.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from devtools.cli import app as dev_app
from golden_record.cli import app
from golden_record.matching.registry import packaged

runner = CliRunner()
FIRST, SECOND = "2026-11-02", "2026-11-03"


@pytest.fixture(scope="module")
def records(sample, tmp_path_factory):
    """The test council's canonical records, and the same a night later with 1% of them
    edited at source and a few gone."""
    folder = tmp_path_factory.mktemp("state_in_store")
    first = folder / "first.parquet"
    made = runner.invoke(dev_app, ["canonical", "--data", str(sample.out), "--out", str(first)])
    assert made.exit_code == 0, made.output
    frame = pd.read_parquet(first)
    later = frame.copy()
    edited = later.index[::100]
    later.loc[edited, "email"] = [f"moved.{i}@example.org" for i in range(len(edited))]
    later = later.drop(later.index[7::500])
    second = folder / "second.parquet"
    later.to_parquet(second)
    return first, second, len(edited)


def _match(records, out, store, key, *more: str):
    result = runner.invoke(
        app,
        [
            "match",
            *("--input", str(records), "--output-dir", str(out)),
            *("--store", store, "--run-key", key, *more),
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def _golden_ids(out):
    xref = pd.read_parquet(out / "xref.parquet")
    return xref.set_index(xref["source_system"] + ":" + xref["source_record_id"])[
        "golden_id"
    ].sort_index()


def test_a_second_run_into_a_new_folder_builds_on_the_store_s_last_run(records, tmp_path):
    first, second, edited = records
    store = tmp_path / "store.db"
    said = _match(first, tmp_path / "night-1", f"sqlite:///{store}", FIRST)
    assert "scored every record (no earlier accepted night to build on)" in said
    # The same store, as the first night left it, for a full re-match to compare with.
    shutil.copyfile(store, tmp_path / "store-full.db")

    said = _match(second, tmp_path / "night-2", f"sqlite:///{store}", SECOND)
    # The first run's model, found through the store: no training on the new file.
    assert "the promoted model" in said and "trained on these" not in said
    assert f"scored {edited} new or changed records against the rest" in said
    about = json.loads(
        (tmp_path / "night-2" / "runs" / SECOND / "standardised" / "about.json").read_text()
    )
    assert about["mode"] == "incremental" and about["standardised"] == edited
    # The golden files too: the first run's, patched with what changed, not read whole.
    built = json.loads(
        (tmp_path / "night-2" / "runs" / SECOND / "golden" / "summary.json").read_text()
    )
    assert built["files_patched_from"] == FIRST

    full = _match(
        second,
        tmp_path / "night-2-full",
        f"sqlite:///{tmp_path / 'store-full.db'}",
        SECOND,
        "--full-refresh",
    )
    assert "scored every record (a full re-match was asked for" in full
    assert _golden_ids(tmp_path / "night-2").equals(_golden_ids(tmp_path / "night-2-full"))


def test_another_store_or_a_run_folder_gone_starts_afresh_and_says_why(records, tmp_path):
    first, second, _ = records
    # The packaged model throughout: what is found or not here is the scoring's base.
    model = ("--model", str(packaged()))
    _match(first, tmp_path / "night-1", f"sqlite:///{tmp_path / 'store.db'}", FIRST, *model)
    # Another store knows nothing of that run: scored in full.
    said = _match(second, tmp_path / "other", f"sqlite:///{tmp_path / 'other.db'}", SECOND, *model)
    assert "scored every record (no earlier accepted night to build on)" in said

    # The first run's folder moved away: the store's record of it leads nowhere, and the
    # second run says so by scoring in full rather than failing.
    shutil.move(tmp_path / "night-1", tmp_path / "moved")
    said = _match(
        second, tmp_path / "night-2", f"sqlite:///{tmp_path / 'store.db'}", SECOND, *model
    )
    assert (
        f"scored every record (no earlier accepted night to build on: the golden store's run "
        f"{FIRST} was kept at {(tmp_path / 'night-1' / 'runs' / FIRST).resolve()}, which is gone)"
    ) in " ".join(said.split())
