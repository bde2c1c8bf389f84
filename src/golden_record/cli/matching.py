"""``golden-record train|match|blocking|explain|evaluate``: matching a file of records."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from golden_record.cli.inputs import read_records
from golden_record.cli.progress import step

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


@app.command()
def match(
    input: Annotated[Path, typer.Option(help="Canonical person records (.csv or .parquet).")],
    output_dir: Annotated[
        Path, typer.Option(help="Folder for xref, review pairs, golden records.")
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            help="Model JSON to match with. Without it, the model promoted in "
            "OUTPUT_DIR/models, or (first run) one trained on INPUT and promoted there."
        ),
    ] = None,
    retrain: Annotated[
        bool, typer.Option(help="Train a new model on INPUT and promote it in OUTPUT_DIR/models.")
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
    promotes that model in OUTPUT_DIR/models for every later run. A later run (a later
    RUN_KEY) with the same model scores only the records changed since the last one.
    """
    from golden_record.extract.canonical import CanonicalContractError
    from golden_record.golden import StoreError
    from golden_record.jobs import match_file, run_date_of
    from golden_record.matching.backend import matching_db_api
    from golden_record.matching.inference import ModelError, Thresholds
    from golden_record.matching.training import TrainingError
    from golden_record.run import Run, check_not_ahead
    from golden_record.settings import BACKENDS

    if model is not None and retrain:
        raise typer.BadParameter("give --model or --retrain, not both")
    if backend is not None and backend not in BACKENDS:
        raise typer.BadParameter(
            f"{backend!r}: one of {', '.join(BACKENDS)}", param_hint="--backend"
        )
    today = date.today()
    key = run_key or today.isoformat()
    try:
        run_date = run_date_of(key, today)
        check_not_ahead(run_date)
        Run.of(key, run_date, root=output_dir)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--run-key") from exc
    defaults = Thresholds()
    try:
        done = match_file(
            read_records(input),
            output_dir,
            run_key=key,
            store_url=store,
            model=model,
            retrain=retrain,
            thresholds=Thresholds(
                auto_match=auto_match or defaults.auto_match, review=review or defaults.review
            ),
            db_api=matching_db_api(backend) if backend else None,
            full_refresh=full_refresh,
            source_name=input.name,
            step=step,
        )
    except (CanonicalContractError, ModelError, StoreError, TrainingError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    matched = done.matched
    typer.echo(f"matched with {done.model_source}")
    if matched.scoring == "incremental":
        typer.echo(f"scored {matched.records_rescored} new or changed records against the rest")
    else:
        typer.echo(f"scored every record ({matched.why_full})")
    typer.echo(
        f"{done.records} records → {done.golden_records} golden records, "
        f"{done.review_pairs} pairs for review; changes {done.built.events}; wrote {output_dir}"
    )
    share = matched.review_records / done.records if done.records else 0.0
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
