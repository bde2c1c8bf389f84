"""``golden-record night accept|undo|apply-decisions``: nights a gate refused, a run
published by mistake, and stewards' decisions applied at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from golden_record.cli.options import CrmOption, StoreOption, database_url, existing_store

app = typer.Typer(
    rich_markup_mode="markdown",
    no_args_is_help=True,
    help="Nightly runs a gate refused, or a run published by mistake.",
)


@app.command("accept")
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


@app.command("undo")
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


@app.command("apply-decisions")
def night_apply_decisions(
    run_key: Annotated[str, typer.Argument(help="The latest accepted night, e.g. 2026-11-05")],
    store: StoreOption,
    crm: CrmOption,
    data: Annotated[
        Path | None, typer.Option(help="Pipeline data folder (default GOLDEN_RECORD_DATA).")
    ] = None,
) -> None:
    """Apply the stewards' decisions now instead of with the next night: the latest
    accepted night is matched, built, gated and published again with every decision in
    force, so merges and splits reach the golden store and the CRM at once (nothing is
    extracted). With Airflow, clear that night's `match` task and those after it instead."""
    from golden_record import paths
    from golden_record.jobs import ApplyRefused, apply_decisions
    from golden_record.run import Run

    try:
        run = Run.of(run_key, root=data or paths.data_root())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="RUN_KEY") from None
    existing_store(store)
    try:
        done = apply_decisions(run, database_url(crm, "--crm"), store)
    except ApplyRefused as exc:
        raise typer.BadParameter(str(exc)) from None
    if done.outcome != "published":
        typer.echo(
            f"night {run_key} stopped, nothing published: {'; '.join(done.stopped_because)} "
            f"(report: {done.report_html})",
            err=True,
        )
        raise typer.Exit(1)
    decided = done.results.get("match", {}).get("steward_decisions", 0)
    typer.echo(
        f"applied {decided} steward decision(s) to night {run_key}: published "
        f"(report: {done.report_html})"
    )
