"""``golden-record train|match|blocking|explain|evaluate``: matching a file of records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from golden_record.cli.inputs import read_records
from golden_record.cli.progress import step

if TYPE_CHECKING:
    import pandas as pd

    from golden_record.golden import GoldenStore


app = typer.Typer()


@app.command()
def train(
    input: Annotated[Path, typer.Option(help="Canonical person records (.csv or .parquet).")],
    output: Annotated[Path, typer.Option(help="Where to write the model JSON.")],
    seed: int = 42,
) -> None:
    """Train the matching model on canonical records (rarely; the nightly run never trains
    once a model is promoted)."""
    from golden_record.extract.canonical import conform
    from golden_record.matching.training import TrainingError
    from golden_record.matching.training import train as run_train
    from golden_record.standardise.fields import standardise

    records = conform(read_records(input), str(input))
    try:
        meta = run_train(standardise(records), output, seed=seed)
    except TrainingError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(meta, indent=2))


def _model_for(
    standardised: pd.DataFrame,
    output_dir: Path,
    model: Path | None,
    golden_store: GoldenStore,
    retrain: bool,
) -> tuple[Path, str]:
    """The model to match with and where it came from: given, kept with the store, or
    trained now on these records (and then kept with the store)."""
    from golden_record.atomic import write_text
    from golden_record.golden.kept_model import keep_model, kept_model
    from golden_record.matching.choosing import train_checked
    from golden_record.matching.training import TrainingError, metadata_path

    if model is not None:
        return model, f"model {model}"
    model_path = output_dir / "model.json"
    kept = None if retrain else kept_model(golden_store)
    if kept is not None:
        stored, meta = kept
        write_text(json.dumps(stored, indent=2) + "\n", model_path)
        write_text(json.dumps(meta, indent=2) + "\n", metadata_path(model_path))
        return model_path, f"the model kept with the store (trained {meta.get('trained_at')})"
    try:
        meta = train_checked(standardised, model_path)
    except TrainingError as exc:
        raise typer.BadParameter(str(exc)) from exc
    keep_model(golden_store, model_path.name, json.loads(model_path.read_text()), meta)
    if meta["chosen"] == "packaged":
        return model_path, f"the packaged model, kept with the store: {meta['why']}"
    return model_path, (
        f"a model trained on these {meta['training_records']:,} records "
        f"({', '.join(meta['expectation_maximisation_passes'])}), kept with the store; "
        f"checked against the packaged model: {meta['why']}"
    )


@app.command()
def match(
    input: Annotated[Path, typer.Option(help="Canonical person records (.csv or .parquet).")],
    output_dir: Annotated[
        Path, typer.Option(help="Folder for xref, review pairs, golden records.")
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            help="Model JSON to match with. Without it, the model kept with the store, or "
            "(first run) one trained on INPUT and kept with the store."
        ),
    ] = None,
    retrain: Annotated[
        bool, typer.Option(help="Train a new model on INPUT and keep it with the store.")
    ] = False,
    auto_match: Annotated[
        float | None, typer.Option(help="Auto-match threshold [default: 0.95].")
    ] = None,
    review: Annotated[
        float | None,
        typer.Option(help="Lower edge of the clerical-review band [default: 0.80]."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="Golden store URL (state across runs); OUTPUT_DIR/golden_store.db if omitted."
        ),
    ] = None,
    run_key: Annotated[
        str | None, typer.Option(help="Name of this run in the store; today's date if omitted.")
    ] = None,
    full_refresh: Annotated[
        bool,
        typer.Option(
            help="Score every pair afresh, not only the records changed since the last run."
        ),
    ] = False,
    backend: Annotated[
        str | None,
        typer.Option(
            help="Where the pairs are scored: duckdb or spark [default: GOLDEN_RECORD_BACKEND, "
            "else duckdb]. Spark takes its session from GOLDEN_RECORD_SPARK_*."
        ),
    ] = None,
) -> None:
    """Standardise, predict and cluster canonical records, then keep golden IDs in a store.

    The same stages as the nightly DAG, as a run under OUTPUT_DIR/runs/RUN_KEY/. With no
    --model, the first run trains on INPUT itself (sampled above 300,000 records) and
    keeps that model with the store for every later run. A later run (a later RUN_KEY)
    with the same model scores only the records changed since the last one.
    """
    import shutil

    import pandas as pd

    from golden_record import nights, pipeline
    from golden_record.atomic import write_parquet
    from golden_record.extract.canonical import CanonicalContractError, unique_ids
    from golden_record.golden import GoldenStore, StoreError, default_store_url
    from golden_record.matching.inference import MatchOptions, ModelError, Thresholds
    from golden_record.matching.stage import review_with_source_ids, xref_with_source_ids
    from golden_record.run import Run, check_not_ahead

    if model is not None and retrain:
        raise typer.BadParameter("give --model or --retrain, not both")
    from golden_record.settings import BACKENDS

    if backend is not None and backend not in BACKENDS:
        raise typer.BadParameter(
            f"{backend!r}: one of {', '.join(BACKENDS)}", param_hint="--backend"
        )
    today = date.today()
    key = run_key or today.isoformat()
    try:
        # A run keyed by a date is that date's run (its month decides the monthly full
        # re-match, its date standardises ages), as a night is; any other key is today's.
        run_date = date.fromisoformat(key[:10])
    except ValueError:
        run_date = today
    try:
        check_not_ahead(run_date)
        run = Run.of(key, run_date, root=output_dir)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--run-key") from exc
    store_url = store or default_store_url(output_dir)
    try:
        with step(f"reading and standardising {input.name}"):
            pipeline.standardise_canonical(run, read_records(input))
    except CanonicalContractError as exc:
        raise typer.BadParameter(str(exc)) from exc
    golden_store = GoldenStore(store_url)
    standardised = pd.read_parquet(run.standardised.records)
    with step("choosing the model"):
        model_path, model_source = _model_for(
            standardised, output_dir, model, golden_store, retrain
        )
    # A command-line run chooses its model each time it is run: unpin the last one.
    shutil.rmtree(run.match.dir, ignore_errors=True)
    defaults = Thresholds()
    from golden_record.matching.backend import matching_db_api

    options = MatchOptions(
        thresholds=Thresholds(
            auto_match=auto_match or defaults.auto_match, review=review or defaults.review
        ),
        db_api=matching_db_api(backend) if backend else None,
    )
    try:
        # The store takes a command-line run at once: like a night whose gate passed, it
        # is what the next run builds on.
        nights.withdraw(run)
        with step(f"scoring and clustering {len(standardised):,} records"):
            matched = pipeline.match(
                run,
                model_path=model_path,
                store_url=store_url,
                options=options,
                full_refresh=full_refresh,
            )
        with step("keeping golden IDs in the store"):
            built = pipeline.build_golden(run, store_url=store_url, staged=False)
        nights.mark_accepted(run, by="golden-record match")
    except (ModelError, StoreError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    clusters = pd.read_parquet(run.match.xref)
    xref = xref_with_source_ids(clusters)
    golden_of = golden_store.current_xref().set_index("unique_id")["golden_id"]
    xref["golden_id"] = golden_of.reindex(unique_ids(xref)).to_numpy()
    review_people = review_with_source_ids(pd.read_parquet(run.match.review_pairs))
    golden = pd.read_parquet(run.golden.golden_records)
    from golden_record.keys import held_in

    golden = golden[held_in(golden["golden_id"], xref["golden_id"].dropna())]
    write_parquet(xref, output_dir / "xref.parquet")
    write_parquet(review_people, output_dir / "review_pairs.parquet")
    shutil.copyfile(run.match.review_queue, output_dir / "review_queue.parquet")
    write_parquet(
        review_with_source_ids(pd.read_parquet(run.match.settled_pairs)),
        output_dir / "settled_pairs.parquet",
    )
    shutil.copyfile(run.match.scored_pairs, output_dir / "scored_pairs.parquet")
    write_parquet(golden.reset_index(drop=True), output_dir / "golden_records.parquet")
    typer.echo(f"matched with {model_source}")
    if matched.scoring == "incremental":
        typer.echo(f"scored {matched.records_rescored} new or changed records against the rest")
    else:
        typer.echo(f"scored every record ({matched.why_full})")
    typer.echo(
        f"{len(xref)} records → {xref['golden_id'].nunique()} golden records, "
        f"{len(review_people)} pairs for review; changes {built.events}; wrote {output_dir}"
    )
    share = matched.review_records / len(xref) if len(xref) else 0.0
    typer.echo(
        f"review queue: {matched.review_items} golden records to look at, holding "
        f"{matched.review_records} records ({share:.1%} of all; review_queue.parquet)"
    )
    if matched.settled_by_evidence:
        typer.echo(
            f"not queued: {matched.settled_by_evidence} doubtful pairs whose forenames and dates "
            "of birth both conflict (two people; settled_pairs.parquet)"
        )
    if matched.settled_same or matched.settled_different:
        typer.echo(
            f"decided as stewards decided pairs like them: {matched.settled_same} joined, "
            f"{matched.settled_different} kept apart (settled_pairs.parquet)"
        )
    agree = matched.agreement_with_stewards
    if agree.get("decided_same") or agree.get("decided_different"):
        typer.echo(
            f"the model against stewards' decisions: {agree['scored_same']} of "
            f"{agree['decided_same']} 'same' scored at auto-match, {agree['scored_different']} "
            f"of {agree['decided_different']} 'different' below it"
        )


@app.command()
def blocking(
    input: Annotated[Path, typer.Option(help="Canonical person records (.csv or .parquet).")],
    sample: Annotated[
        float, typer.Option(help="Share of records to count on (below 1 estimates).")
    ] = 1.0,
) -> None:
    """Print how many pairs each prediction blocking rule creates on these records."""
    from golden_record.matching.blocking import as_markdown, blocking_rule_counts
    from golden_record.matching.stage import standardise_records

    counts = blocking_rule_counts(standardise_records(read_records(input)), sample=sample)
    typer.echo(as_markdown(counts))


@app.command()
def explain(
    match_dir: Annotated[
        Path, typer.Option(help="Output of `match` (or a nightly run's match/ folder).")
    ],
    out: Annotated[Path, typer.Option(help="HTML page to write.")],
    pair: Annotated[
        tuple[str, str] | None,
        typer.Option(help="Two record ids, each source_system:source_record_id."),
    ] = None,
    cluster: Annotated[str | None, typer.Option(help="A cluster_id from xref.parquet.")] = None,
    model: Annotated[Path | None, typer.Option(help="Model JSON used for the match.")] = None,
) -> None:
    """Save Splink's waterfall chart for a pair or a cluster as an HTML page."""
    import pandas as pd

    from golden_record.matching.explain import pairs_for, pairs_in_cluster, waterfall_page
    from golden_record.matching.inference import load_model

    if (pair is None) == (cluster is None):
        raise typer.BadParameter("give exactly one of --pair or --cluster")
    for needed in ("scored_pairs.parquet", "xref.parquet"):
        if not (match_dir / needed).is_file():
            raise typer.BadParameter(
                f"no {needed} in {match_dir}: give the output folder of `golden-record match` "
                "or a nightly run's match/ folder",
                param_hint="--match-dir",
            )
    scored = pd.read_parquet(match_dir / "scored_pairs.parquet")
    if pair is not None:
        xref = pd.read_parquet(match_dir / "xref.parquet")
        if "unique_id" in xref:
            known = set(xref["unique_id"])
        else:
            known = set(xref["source_system"] + ":" + xref["source_record_id"])
        unknown = [record for record in pair if record not in known]
        if unknown:
            raise typer.BadParameter(
                f"no record {' or '.join(unknown)} in this match (a mistyped id? ids are "
                "source_system:source_record_id, e.g. revenues:CTP00012345)",
                param_hint="--pair",
            )
        pairs, title = pairs_for(scored, *pair), f"Why {pair[0]} and {pair[1]} match"
    else:
        xref = pd.read_parquet(match_dir / "xref.parquet")
        members = xref.loc[xref["cluster_id"] == cluster]
        if members.empty:
            raise typer.BadParameter(f"no cluster {cluster} in {match_dir / 'xref.parquet'}")
        ids = (members["source_system"] + ":" + members["source_record_id"]).tolist()
        pairs, title = pairs_in_cluster(scored, ids), f"Why the records of cluster {cluster} match"
    page = waterfall_page(pairs, load_model(model), title, out)
    typer.echo(f"explanation of {len(pairs)} pair(s) → {page}")


@app.command()
def evaluate(
    xref: Annotated[Path, typer.Option(help="xref.parquet with source ids and golden_id.")],
    truth: Annotated[Path, typer.Option(help="Generated data folder holding truth/.")],
) -> None:
    """Pairwise precision, recall and F1 of a result against generated ground truth."""
    import pandas as pd

    from golden_record.matching.evaluation import merged_hard_cases, pairwise_scores

    result = pd.read_parquet(xref)
    entity = "golden_id" if "golden_id" in result.columns else "cluster_id"
    labels = pd.read_csv(truth / "truth" / "ground_truth.csv", dtype="string")
    labelled = result.merge(labels, on=["source_system", "source_record_id"])
    scores = pairwise_scores(labelled, entity, "person_id").as_dict()
    merged = merged_hard_cases(labelled, pd.read_csv(truth / "truth" / "hard_cases.csv"), entity)
    scores["hard_cases_merged"] = merged["relation"].value_counts().to_dict()
    typer.echo(json.dumps(scores, indent=2))
