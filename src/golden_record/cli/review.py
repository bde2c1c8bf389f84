"""``golden-record review list|items|show|decide|undo|claim|release``: stewards' clerical
review of doubtful pairs and the items they make."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from golden_record.cli.options import StoreOption, existing_store
from golden_record.cli.progress import step

app = typer.Typer(
    rich_markup_mode="markdown", no_args_is_help=True, help="Clerical review of doubtful pairs."
)


@app.command("list")
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


@app.command("show")
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


@app.command("decide")
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


@app.command("undo")
def review_undo(
    record_a: str,
    record_b: str,
    store: StoreOption,
    by: Annotated[str, typer.Option(help="Who undoes it (name or staff id).")],
    reason: Annotated[str, typer.Option(help="Why the decision was wrong.")],
) -> None:
    """Undo the decision about two records: kept for the record, the pair undecided
    again (the next night makes the model's call; decide it afresh if you know)."""
    from golden_record.golden import StoreError
    from golden_record.golden.stewardship import undo

    try:
        row = undo(existing_store(store), record_a, record_b, by, reason)
    except StoreError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(
        f"undone: '{row['decision']}' for {row['record_a']} and {row['record_b']} "
        f"({row['decided_by']}, {row['decided_at']}); the next night decides the pair "
        "by the model unless you decide it again"
    )


@app.command("items")
def review_items_command(store: StoreOption, limit: int = 50) -> None:
    """The queue by the people it affects: each item is the golden records a doubtful
    link would join, first to look at first (most records affected), with its claim."""
    from rich.console import Console
    from rich.table import Table

    from golden_record.golden.review_items import review_items

    items = review_items(existing_store(store))
    title = f"{len(items)} items awaiting review"
    if limit < len(items):
        title += f": the first {limit} (--limit for more)"
    table = Table(title=title)
    for column in ("#", "item", "records", "golden records", "systems", "links", "why", "claimed"):
        table.add_column(column)
    for item in items[:limit]:
        table.add_row(
            str(item.rank),
            item.item_id,
            str(len(item.records)),
            ", ".join(item.golden_ids),
            str(item.systems),
            str(len(item.pairs)),
            item.reason,
            item.claimed_by or "–",
        )
    Console(width=200).print(table)


@app.command("claim")
def review_claim(
    item_id: str,
    store: StoreOption,
    by: Annotated[str, typer.Option(help="Who claims it (name or staff id).")],
    take_over: Annotated[
        bool, typer.Option(help="Take over another steward's claim (they have stopped).")
    ] = False,
) -> None:
    """Claim a review item, so that no other steward works on the same people meanwhile."""
    from golden_record.golden import StoreError
    from golden_record.golden.review_items import CLAIM_HOURS, claim

    try:
        row = claim(existing_store(store), item_id, by, take_over=take_over)
    except StoreError as exc:
        raise typer.BadParameter(str(exc)) from exc
    taken = f", taken over from {row['taken_from']}" if row["taken_from"] else ""
    typer.echo(
        f"claimed: {item_id} by {by} at {row['claimed_at']}{taken} "
        f"(for {CLAIM_HOURS} hours, or until released: golden-record review release)"
    )


@app.command("release")
def review_release(
    item_id: str,
    store: StoreOption,
    by: Annotated[str, typer.Option(help="Who releases it: the steward who claimed it.")],
) -> None:
    """Release your claim of a review item."""
    from golden_record.golden import StoreError
    from golden_record.golden.review_items import release

    try:
        release(existing_store(store), item_id, by)
    except StoreError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"released: {item_id}")
