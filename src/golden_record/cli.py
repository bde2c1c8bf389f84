"""The ``golden-record`` command line: train, match, evaluate, review, nights, the CRM.

The sample-council generator and its portal server are development tools
(``python -m devtools``), not part of the installed command."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from golden_record.cli_options import CrmOption, StoreOption, database_url, existing_store
from golden_record.cli_progress import step

if TYPE_CHECKING:
    import pandas as pd

    from golden_record.golden import GoldenStore

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


def _read_records(path: Path) -> pd.DataFrame:
    import pandas as pd

    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype("string")
    if path.suffix == ".csv":
        try:
            return pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start : exc.start + 1]
            raise typer.BadParameter(
                f"{path}: not UTF-8 text (byte {exc.start} is {bad!r}); save it as UTF-8"
            ) from exc
    raise typer.BadParameter(f"{path}: expected a .csv or .parquet file of canonical records")


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

    records = conform(_read_records(input), str(input))
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
            pipeline.standardise_canonical(run, _read_records(input))
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

    counts = blocking_rule_counts(standardise_records(_read_records(input)), sample=sample)
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


review_app = typer.Typer(no_args_is_help=True, help="Clerical review of doubtful pairs.")
app.add_typer(review_app, name="review")


@review_app.command("list")
def review_list(store: StoreOption, limit: int = 50) -> None:
    """The latest run's undecided review pairs, strongest first."""
    from rich.console import Console
    from rich.table import Table

    from golden_record.golden.stewardship import queue

    pending = queue(existing_store(store), limit=None)
    shown = min(limit, len(pending))
    title = f"{len(pending)} pairs awaiting review"
    if shown < len(pending):
        title += f": the strongest {shown} (--limit for more)"
    table = Table(title=title)
    for column in ("record A", "record B", "probability", "reason"):
        table.add_column(column)
    for row in pending.head(limit).itertuples(index=False):
        table.add_row(
            str(row.record_a), str(row.record_b), f"{row.match_probability:.4f}", str(row.reason)
        )
    Console(width=160).print(table)


@review_app.command("show")
def review_show(
    record_a: str,
    record_b: str,
    store: StoreOption,
    html: Annotated[Path | None, typer.Option(help="Also write the waterfall chart here.")] = None,
    model: Annotated[Path | None, typer.Option(help="Model JSON used for the match.")] = None,
) -> None:
    """Both records side by side, with each comparison's match weight."""
    from rich.console import Console
    from rich.table import Table

    from golden_record.golden import StoreError
    from golden_record.golden.stewardship import item, side_by_side

    try:
        with step("reading the pair from the store"):
            found = item(existing_store(store), record_a, record_b)
    except StoreError as exc:
        raise typer.BadParameter(str(exc)) from exc
    frame = side_by_side(found)
    title = (
        f"{found['record_a']} and {found['record_b']}: match probability "
        f"{found['match_probability']:.4f} (run {found['run_key']}); {found['reason']}"
    )
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*("" if v is None or v != v else str(v) for v in row))
    Console(width=160).print(table)
    if html is not None:
        import pandas as pd

        from golden_record.matching.explain import waterfall_page
        from golden_record.matching.inference import load_model

        if not found["detail"]:
            raise typer.BadParameter("this pair has no scored detail to chart")
        page = waterfall_page(pd.DataFrame([found["detail"]]), load_model(model), title, html)
        typer.echo(f"waterfall chart → {page}")


@review_app.command("decide")
def review_decide(
    record_a: str,
    record_b: str,
    decision: Annotated[str, typer.Argument(help="same | different")],
    store: StoreOption,
    by: Annotated[str, typer.Option(help="Who decides (name or staff id).")],
    reason: Annotated[str, typer.Option(help="Why: what the steward checked.")],
) -> None:
    """Record 'same' or 'different' for two records; every later run honours it."""
    from golden_record.golden import StoreError
    from golden_record.golden.stewardship import decide

    try:
        row = decide(existing_store(store), record_a, record_b, decision, by, reason)
    except StoreError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(
        f"recorded: {row['record_a']} and {row['record_b']} are "
        f"{'the same person' if row['decision'] == 'same' else 'different people'} "
        f"({row['decided_by']}, {row['decided_at']})"
    )


@app.command()
def lookup(
    surname: Annotated[str, typer.Option(help="The person's surname.")],
    first_name: Annotated[str | None, typer.Option(help="Forename.")] = None,
    date_of_birth: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    postcode: Annotated[str | None, typer.Option(help="Postcode.")] = None,
    email: Annotated[str | None, typer.Option(help="Email address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number.")] = None,
    address_line_1: Annotated[str | None, typer.Option(help="First line of address.")] = None,
    data: Annotated[
        Path | None, typer.Option(help="Pipeline data folder (default GOLDEN_RECORD_DATA).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many candidates at most.")] = 5,
) -> None:
    """Do we already know this person? The golden records these details may be, scored
    with the current model against the last accepted night."""
    from golden_record import paths
    from golden_record.matching.lookup import Lookup, LookupError_, latest_accepted

    runs = paths.runs_root(data)
    night = latest_accepted(runs)
    if night is None:
        raise typer.BadParameter(
            f"no accepted night under {runs} to look up in", param_hint="--data"
        )
    asked = {
        "surname": surname,
        "first_name": first_name,
        "date_of_birth": date_of_birth,
        "postcode": postcode,
        "email": email,
        "phone": phone,
        "address_line_1": address_line_1,
    }
    try:
        with step(f"loading night {night.key}"):
            lookup_in = Lookup.of_night(night)
        found = lookup_in.candidates(asked, limit=limit)
    except LookupError_ as exc:
        raise typer.BadParameter(str(exc)) from None
    if not found:
        typer.echo(f"no golden record matches (night {night.key})")
        return
    typer.echo(f"{len(found)} candidate(s), night {night.key}:")
    for candidate in found:
        typer.echo(
            f"  {candidate.golden_id}  probability {candidate.match_probability:.4f}: "
            + "; ".join(candidate.reasons)
        )


night_app = typer.Typer(
    no_args_is_help=True, help="Nightly runs a gate refused, or a run published by mistake."
)
app.add_typer(night_app, name="night")


@night_app.command("accept")
def night_accept(
    run_key: Annotated[str, typer.Argument(help="The night, e.g. 2026-11-05")],
    store: StoreOption,
    by: Annotated[str, typer.Option(help="Who accepts the night (name or staff id).")],
    reason: Annotated[str, typer.Option(help="Why: what was checked, e.g. a source clean-up.")],
    data: Annotated[
        Path | None, typer.Option(help="Pipeline data folder (default GOLDEN_RECORD_DATA).")
    ] = None,
) -> None:
    """Accept a night a gate refused only for what a person can judge: a column emptied or
    many records changed at source (a system's clean-up), or the size of its changes (a
    genuine mass merge); running the night again from that gate then publishes it."""
    from golden_record import pipeline
    from golden_record.golden import StoreError
    from golden_record.run import Run

    try:
        row = pipeline.accept_refused_night(Run.of(run_key, root=data), by, reason, store)
    except (StoreError, FileNotFoundError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    after = "build_golden|gate_golden|publish|report|outcome"
    tasks = {"gate_sources": f"gate_sources|standardise|match|{after}", "build_golden": after}[
        row["rerun_from"]
    ]
    typer.echo(
        f"accepted run {run_key}'s {row['gate']} gate ({', '.join(row['refused'])} beyond their "
        f"bands) by {row['accepted_by']} at {row['accepted_at']}. Rerun the night from "
        f"{row['rerun_from']}: airflow tasks clear golden_record_nightly -s {run_key} "
        f"-e {run_key} -t '{tasks}' -y"
    )


@night_app.command("undo")
def night_undo(
    run_key: Annotated[str, typer.Argument(help="The run published by mistake, e.g. 2099-01-01")],
    store: StoreOption,
    crm: CrmOption,
    by: Annotated[str, typer.Option(help="Who undoes the run (name or staff id).")],
    reason: Annotated[str, typer.Option(help="Why, e.g. 'run dated 2099 by mistake'.")],
    data: Annotated[
        Path | None, typer.Option(help="Pipeline data folder (default GOLDEN_RECORD_DATA).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Undo a run published by mistake: the golden store and the CRM back to the last good
    night (the runs applied after it are taken back too, to be run again), its publish
    withdrawn. Pause the nightly DAG first."""
    from golden_record import paths
    from golden_record.golden import StoreError
    from golden_record.publish import PublishError
    from golden_record.run import Run
    from golden_record.undo import undo_run

    root = data or paths.data_root()
    try:
        run = Run.of(run_key, root=root)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="RUN_KEY") from None
    held = existing_store(store)
    later = held.runs_since(run_key)[1:]
    if not yes:
        also = f" and the runs applied after it ({', '.join(later)})" if later else ""
        typer.confirm(
            f"Take run {run_key}{also} back from the golden store and put the CRM back to the "
            "last good night?",
            abort=True,
        )
    try:
        done = undo_run(run, by, reason, database_url(crm, "--crm"), held, root)
    except (StoreError, PublishError) as exc:
        raise typer.BadParameter(str(exc)) from None
    if done.get("already_done"):
        typer.echo(f"run {run_key} was undone on {done['undone_at']} by {done['undone_by']}")
        return
    typer.echo(
        f"undone run {run_key}: the golden store and the CRM are back at run {done['back_to']} "
        f"(publish #{done['crm']['publish_id']}, events {done['crm']['events'] or 'none'}); "
        f"record in {run.dir / 'undone.json'}"
    )
    rerun = [key for key in done["taken_back"] if key != run_key]
    if rerun:
        typer.echo(
            "taken back too, as they were built on it; run them again in order, e.g. "
            + "; ".join(
                f"airflow tasks clear golden_record_nightly -s {key} -e {key} "
                "-t 'build_golden|gate_golden|publish|report|outcome' -y"
                for key in rerun
            )
        )


crm_app = typer.Typer(no_args_is_help=True, help="The CRM database: contract, state, exports.")
app.add_typer(crm_app, name="crm")


@crm_app.command("migrate")
def crm_migrate(crm: CrmOption) -> None:
    """Bring the CRM database to the latest contract (publishing does this too; run it
    here when the pipeline's login may not change the schema)."""
    from golden_record.publish import LATEST_VERSION, migrate
    from golden_record.publish.database import crm_engine

    engine = crm_engine(database_url(crm, "--crm", must_exist=False))
    with engine.begin() as connection:
        applied = migrate(connection)
    engine.dispose()
    done = ", ".join(f"v{v}" for v in applied) if applied else "nothing to apply"
    typer.echo(f"CRM contract at v{LATEST_VERSION} ({done})")


@crm_app.command("status")
def crm_status(crm: CrmOption) -> None:
    """The contract version, the last publish and the change feed's last sequence."""
    from sqlalchemy import text

    from golden_record.publish.contract import current_version
    from golden_record.publish.database import crm_engine

    engine = crm_engine(database_url(crm, "--crm"))
    with engine.connect() as connection:
        version = current_version(connection)
        typer.echo(f"contract v{version}")
        if version >= 3:
            latest = connection.execute(text("SELECT * FROM crm_latest_publish")).mappings()
            for row in latest:
                typer.echo(
                    f"last publish #{row['publish_id']}: run {row['run_key']} at "
                    f"{row['published_at']}, {row['golden_records']:,} golden customers, "
                    f"{row['events']:,} events"
                )
            last = connection.execute(text("SELECT MAX(sequence) FROM golden_change_feed"))
            typer.echo(f"change feed: last sequence {last.scalar() or 0}")
    engine.dispose()


@crm_app.command("export")
def crm_export(
    crm: CrmOption,
    run: Annotated[str, typer.Option(help="The run (date) whose publish to export.")],
    out: Annotated[Path, typer.Option(help="Folder to hold crm_exports/<run>/.")] = Path("data"),
) -> None:
    """Write a run's publish as CSV and Parquet files (as the nightly publish does)."""
    from golden_record.publish import export_run

    typer.echo(str(export_run(run, database_url(crm, "--crm"), out)))


if __name__ == "__main__":
    app()


# Residents' rights (UK GDPR Articles 15–18): golden_record.cli_rights.
from golden_record import cli_rights  # noqa: E402

cli_rights.register(app)
