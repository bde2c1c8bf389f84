"""Development commands, run from a checkout with ``python -m devtools``.

A generated council in each source system's native shape (with its ground truth), read
through the real extractors into canonical records, and the portal's JSON API served from
it. Not part of the installed ``golden-record`` command: a deployment never generates
residents.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@app.command()
def generate(
    people: Annotated[int, typer.Option(help="How many true people to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same data.")] = 42,
    out: Annotated[Path, typer.Option(help="Folder to write the four sources into.")] = Path(
        "data/sample"
    ),
    errors: Annotated[
        Path | None, typer.Option(help="JSON file overriding error-model rates.")
    ] = None,
    error_scale: Annotated[float, typer.Option(help="Multiply all record-level rates.")] = 1.0,
    as_of: Annotated[
        str, typer.Option(help="Date the data describes (YYYY-MM-DD).")
    ] = "2026-11-01",
) -> None:
    """Generate synthetic council data in each source system's native shape, with ground truth."""
    from devtools.generate import ErrorModel
    from devtools.generate import generate as run_generate

    model = ErrorModel.from_json(errors) if errors else ErrorModel()
    if error_scale != 1.0:
        model = model.scaled(error_scale)
    started = time.perf_counter()
    result = run_generate(
        people, seed, out, errors=model, as_of=date.fromisoformat(as_of), show_progress=True
    )
    elapsed = time.perf_counter() - started
    typer.echo(
        f"{result.people} people in {result.households} households → "
        f"{result.total_records} records {result.records} in {elapsed:.1f}s under {out}"
    )


@app.command()
def canonical(
    data: Annotated[Path, typer.Option(help="Generated data folder.")],
    out: Annotated[Path, typer.Option(help="Parquet file of canonical person records.")],
) -> None:
    """Read a generated council through the real extractors into canonical records."""
    from devtools.generate.canonical_sample import canonical_records
    from golden_record.atomic import write_parquet

    records = canonical_records(data)
    write_parquet(records, out)
    typer.echo(f"{len(records)} canonical person records → {out}")


@app.command("sample-to-postgres")
def sample_to_postgres(
    sqlite: Annotated[Path, typer.Option(help="A generated system's SQLite database.")],
    schema: Annotated[str, typer.Option(help="Its DDL, a file under sql/sources.")],
    url: Annotated[str, typer.Option(help="The PostgreSQL database's SQLAlchemy URL.")],
) -> None:
    """Serve a generated system from PostgreSQL: its tables built there and filled."""
    from devtools.generate.to_postgres import copy_sqlite_to_postgres

    copied = copy_sqlite_to_postgres(sqlite, schema, url)
    typer.echo(", ".join(f"{table}: {rows} rows" for table, rows in copied.items()))


@app.command("portal-server")
def portal_server(
    data: Annotated[Path, typer.Option(help="Generated data folder (holds portal/).")],
    token: Annotated[str, typer.Option(envvar="GOLDEN_RECORD_PORTAL_TOKEN")],
    port: int = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = (
        "127.0.0.1"
    ),
) -> None:
    """Serve the generated portal customers as the portal's JSON API."""
    from devtools.generate.portal_api import start_portal

    portal = start_portal(data / "portal" / "customers.jsonl", token, host=host, port=port)
    typer.echo(f"portal API at {portal.base_url} (Ctrl+C to stop)")
    try:
        portal.thread.join()
    except KeyboardInterrupt:
        portal.stop()


if __name__ == "__main__":
    app()
