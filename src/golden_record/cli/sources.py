"""``golden-record sources check|processing-record``: the council's source declarations
read and checked, a declared database's extract tried, before any night runs; and the
record of processing activities they imply."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    rich_markup_mode="markdown",
    no_args_is_help=True,
    help="The council's source systems, as declared (sources.toml).",
)


@app.command("check")
def sources_check(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="The declarations (default: $GOLDEN_RECORD_SOURCES, else the packaged ones).",
        ),
    ] = None,
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url",
            help="NAME=URL: read a declared sql source's extract from this database and map "
            "it to canonical records (repeatable).",
        ),
    ] = None,
) -> None:
    """Read and check the declarations (a mistake is named by file, source and field);
    with `--url`, read each named source in full and map it, as a night would."""
    from golden_record.extract.canonical import conform
    from golden_record.extract.declaration import declared_sources
    from golden_record.extract.sources.sql_database import SqlDatabaseSource
    from golden_record.settings import SourceSettings

    declared = declared_sources(file)
    typer.echo(f"{declared.path}: {len(declared.sources)} source systems")
    for source in declared.sources:
        changes = f"changes by {source.watermark}" if source.watermark else "full snapshot"
        typer.echo(
            f"  {source.name:<12} {source.kind:<9} key {source.key}, {changes}; connection "
            f"{source.connection}; kept {source.retention_days} days"
        )
    urls: dict[str, str] = {}
    for given in url or []:
        name, sep, value = given.partition("=")
        if not sep or name not in declared.names:
            raise typer.BadParameter(
                f"{given!r}: write NAME=URL, NAME one of {', '.join(declared.names)}",
                param_hint="--url",
            )
        if declared[name].kind != "sql":
            raise typer.BadParameter(
                f"{name} is a {declared[name].kind} source", param_hint="--url"
            )
        urls[name] = value
    settings = SourceSettings(database_urls=urls)
    for name in urls:
        extractor = SqlDatabaseSource(declared[name])
        raw = extractor.extract(settings, None, date.today())
        canonical = conform(extractor.to_canonical(raw), name)
        filled = ", ".join(
            f"{column} {canonical[column].notna().mean():.0%}"
            for column in ("first_name", "surname", "date_of_birth", "postcode", "email")
        )
        typer.echo(
            f"{name}: {len(raw):,} rows read, {len(canonical):,} canonical records ({filled})"
        )


@app.command("processing-record")
def sources_processing_record(
    out: Annotated[Path, typer.Option(help="Folder to write the record into.")],
    file: Annotated[
        Path | None, typer.Option("--file", help="The declarations (as for check).")
    ] = None,
    notice: Annotated[
        Path | None,
        typer.Option(help="The privacy notice (default: $GOLDEN_RECORD_PRIVACY_NOTICE)."),
    ] = None,
) -> None:
    """Write the record of processing activities (UK GDPR Art. 30) for every declared
    system and the golden customer record, as CSV (the ICO template's columns) and
    Markdown."""
    from golden_record.rights.processing_record import write

    for path in write(out, file, notice):
        typer.echo(str(path))
