"""The ``golden-record`` command line, run as a user would."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from devtools.cli import app as dev_app
from golden_record.cli import app

runner = CliRunner()


def test_generate_canonical_match_evaluate(tmp_path):
    out = tmp_path / "gen"
    result = runner.invoke(
        dev_app, ["generate", "--people", "800", "--seed", "9", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "truth" / "ground_truth.csv").is_file()

    persons = tmp_path / "persons.parquet"
    result = runner.invoke(dev_app, ["canonical", "--data", str(out), "--out", str(persons)])
    assert result.exit_code == 0, result.output
    # Any file with the canonical columns will do, including CSV.
    csv_input = tmp_path / "persons.csv"
    pd.read_parquet(persons).to_csv(csv_input, index=False)

    result = runner.invoke(
        app, ["match", "--input", str(csv_input), "--output-dir", str(tmp_path / "m")]
    )
    assert result.exit_code == 0, result.output
    # No --model: the first run trains on the file itself and promotes the model.
    assert "a model trained on these" in result.output and "promoted in" in result.output
    assert (tmp_path / "m" / "models" / "current").is_file()
    assert "scored every record (no earlier accepted night to build on)" in result.output
    queue = pd.read_parquet(tmp_path / "m" / "review_queue.parquet")
    assert f"holding {len(queue)} records" in result.output
    assert (tmp_path / "m" / "model.json").is_file()
    xref = pd.read_parquet(tmp_path / "m" / "xref.parquet")
    assert list(xref.columns) == [
        "source_system",
        "source_record_id",
        "cluster_id",
        "match_probability",
        "golden_id",
    ]
    golden = pd.read_parquet(tmp_path / "m" / "golden_records.parquet")
    assert set(golden["golden_id"]) == set(xref["golden_id"])
    assert xref.groupby("cluster_id")["golden_id"].nunique().max() == 1
    # The same input again, as tomorrow's run: every golden ID survives.
    result = runner.invoke(
        app,
        [
            "match",
            "--input",
            str(csv_input),
            "--output-dir",
            str(tmp_path / "m"),
            "--run-key",
            "tomorrow",
        ],
    )
    assert result.exit_code == 0, result.output
    # Tomorrow's run reuses the promoted model: no retraining, no churn of golden IDs.
    assert "the promoted model" in result.output
    # ... and scores only what changed since the last run: here nothing.
    assert "scored 0 new or changed records against the rest" in result.output
    again = pd.read_parquet(tmp_path / "m" / "xref.parquet")
    assert again.set_index("source_record_id")["golden_id"].equals(
        xref.set_index("source_record_id")["golden_id"]
    )
    # Runs keyed by a date are that date's: two in one month build on each other, whatever
    # month it is today.
    from golden_record.matching.registry import packaged

    for key in ("2020-01-10", "2020-01-11"):
        result = runner.invoke(
            app,
            [
                "match",
                *("--input", str(csv_input), "--output-dir", str(tmp_path / "dated")),
                *("--model", str(packaged()), "--run-key", key),
            ],
        )
        assert result.exit_code == 0, result.output
    assert "scored 0 new or changed records against the rest" in result.output
    assert len(xref) == len(pd.read_parquet(persons))
    review = pd.read_parquet(tmp_path / "m" / "review_pairs.parquet")
    assert {"source_record_id_l", "source_record_id_r", "match_probability", "reason"} <= set(
        review.columns
    )
    assert review["match_probability"].between(0.8, 1).all()

    result = runner.invoke(
        app, ["evaluate", "--xref", str(tmp_path / "m" / "xref.parquet"), "--truth", str(out)]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["precision"] > 0.97 and scores["recall"] > 0.85

    result = runner.invoke(app, ["blocking", "--input", str(persons)])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| `")]
    # Every rule the records' fields allow, and the loose rules their size allows.
    assert len(rows) >= 10
    cumulative = [int(row.split("|")[3].replace(",", "")) for row in rows]
    assert cumulative == sorted(cumulative) and cumulative[-1] > 0


def test_match_refuses_a_file_that_is_not_canonical(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,dob\nJane,1980-01-01\n")
    result = runner.invoke(app, ["match", "--input", str(bad), "--output-dir", str(tmp_path)])
    # A usage error naming what is missing, not a traceback; nothing is written.
    assert result.exit_code == 2
    assert "canonical columns missing" in " ".join(result.output.split())
    assert not (tmp_path / "runs").exists() and not (tmp_path / "golden_store.db").exists()


def test_crm_migrate_status_and_export(tmp_path):
    from golden_record.publish import publish
    from tests.crm_fixtures import night

    crm = f"sqlite:///{tmp_path / 'crm.db'}"
    result = runner.invoke(app, ["crm", "migrate", "--crm", crm])
    assert result.exit_code == 0 and "v6 (v1, v2, v3, v4, v5, v6)" in result.output, result.output
    golden, sources = night({"GR1": {"surname": "Smith"}}, {"GR1": ["revenues:r1"]})
    publish(golden, sources, "2026-11-02", crm)
    result = runner.invoke(app, ["crm", "status", "--crm", crm])
    assert "run 2026-11-02" in result.output and "last sequence 1" in result.output
    result = runner.invoke(
        app, ["crm", "export", "--crm", crm, "--run", "2026-11-02", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "crm_exports" / "2026-11-02" / "golden_customer.csv").is_file()


def test_match_with_a_given_model_or_a_retrain(tmp_path):
    from devtools.benchmarks import febrl
    from golden_record.matching.registry import packaged

    records, _ = febrl.febrl_numbered(1)
    path = tmp_path / "febrl1.parquet"
    records.to_parquet(path)
    out = tmp_path / "out"
    given = runner.invoke(
        app, ["match", "--input", str(path), "--output-dir", str(out), "--model", str(packaged())]
    )
    assert given.exit_code == 0 and f"matched with model {packaged()}" in given.output
    assert not (out / "model.json").exists()
    first = runner.invoke(app, ["match", "--input", str(path), "--output-dir", str(out)])
    assert "a model trained on these 1,000 records" in first.output
    retrained = runner.invoke(
        app, ["match", "--input", str(path), "--output-dir", str(out), "--retrain"]
    )
    assert retrained.exit_code == 0 and "a model trained on these" in retrained.output
    both = runner.invoke(
        app,
        ["match", "--input", str(path), "--output-dir", str(out), "--retrain", "--model", "x"],
    )
    assert both.exit_code == 2 and "not both" in both.output


def test_night_accept_refuses_a_night_whose_gate_never_ran_saying_so(tmp_path):
    result = runner.invoke(
        app,
        ["night", "accept", "2026-11-05", "--store", f"sqlite:///{tmp_path / 'store.db'}",
         "--by", "A Steward", "--reason", "checked", "--data", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())  # the error box wraps lines
    assert "run 2026-11-05: no gate has run; nothing to accept" in said
    assert "Traceback" not in result.output


def test_review_commands_on_a_mistyped_store_path_say_so_and_create_nothing(tmp_path):
    mistyped = tmp_path / "data" / "golden-store.db"
    for command in (["review", "list"], ["review", "show", "a:1", "b:2"]):
        result = runner.invoke(app, [*command, "--store", f"sqlite:///{mistyped}"])
        assert result.exit_code == 2, result.output
        # The error box wraps lines, a long path included.
        said = "".join(result.output.replace("│", "").split())
        assert f"nogoldenstoreat{mistyped}:checkthepath" in said
        assert not mistyped.exists() and not mistyped.parent.exists()


def test_a_model_an_earlier_version_kept_in_the_store_moves_into_the_registry(tmp_path):
    """Stores written before the one registry held their model as a row: the first match
    against such a store promotes that model in the output folder, and uses it."""
    import json

    from sqlalchemy import insert

    from devtools.generate import generate
    from devtools.generate.canonical_sample import canonical_records
    from golden_record import GoldenStore, match_file
    from golden_record.golden.store import schema
    from golden_record.matching import registry

    generated = generate(300, 4, tmp_path / "gen")
    out = tmp_path / "out"
    store = GoldenStore(f"sqlite:///{out / 'golden_store.db'}")
    kept = json.loads(registry.packaged().read_text())
    with store.engine.begin() as connection:
        connection.execute(
            insert(schema.matching_model).values(
                name="model.json",
                model=json.dumps(kept),
                meta=json.dumps({"trained_at": "2026-11-01T00:00:00Z"}),
                kept_at="2026-11-01T00:00:00Z",
            )
        )
    done = match_file(canonical_records(generated.out), out, run_key="2026-11-02")
    assert "the promoted model kept_with_store_2026-11-01T000000Z.json" in done.model_source
    assert registry.resolve(None, out) == out / "models" / "kept_with_store_2026-11-01T000000Z.json"
    assert json.loads((out / "model.json").read_text()) == kept
    # Nothing was trained: the store's model is the one the golden IDs were made with.
    assert not list((out / "models").glob("golden_model_*.json")) and done.golden_records > 0


def test_match_file_lets_its_input_go_before_scoring(tmp_path, monkeypatch):
    # The input is in the run's files once standardised; held through the scoring (the
    # peak), a million records' canonical frame was hundreds of megabytes more.
    import gc
    import weakref

    from devtools.generate import generate
    from devtools.generate.canonical_sample import canonical_records
    from golden_record import match_file, pipeline
    from golden_record.matching import registry

    generated = generate(120, 5, tmp_path / "gen")
    given: list = []
    alive_at_scoring: list[bool] = []
    real_standardise, real_match = pipeline.standardise_canonical, pipeline.match

    def standardise(run, records, **kwargs):
        given.append(weakref.ref(records))
        return real_standardise(run, records, **kwargs)

    def match(*args, **kwargs):
        gc.collect()
        alive_at_scoring.append(given[0]() is not None)
        return real_match(*args, **kwargs)

    monkeypatch.setattr(pipeline, "standardise_canonical", standardise)
    monkeypatch.setattr(pipeline, "match", match)
    done = match_file(canonical_records(generated.out), tmp_path / "out", model=registry.packaged())
    assert alive_at_scoring == [False] and done.records > 0
