"""``golden-record crm migrate|status|export``: the CRM database's contract, state and exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from golden_record.cli.options import CrmOption, database_url

app = typer.Typer(
    rich_markup_mode="markdown",
    no_args_is_help=True,
    help="The CRM database: contract, state, exports.",
)


@app.command("migrate")
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


@app.command("status")
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


@app.command("export")
def crm_export(
    crm: CrmOption,
    run: Annotated[str, typer.Option(help="The run (date) whose publish to export.")],
    out: Annotated[Path, typer.Option(help="Folder to hold crm_exports/<run>/.")] = Path("data"),
) -> None:
    """Write a run's publish as CSV and Parquet files (as the nightly publish does)."""
    from golden_record.publish import export_run
    from golden_record.run import check_run_key

    try:
        check_run_key(run)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--run") from None

    typer.echo(str(export_run(run, database_url(crm, "--crm"), out)))
