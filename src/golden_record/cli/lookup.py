"""``golden-record lookup``: find a resident's golden record by their details."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from golden_record.cli.progress import step

app = typer.Typer()


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
    from golden_record.matching.lookup import (
        Lookup,
        LookupError_,
        checked_details,
        latest_accepted,
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
        # The details first: a mistyped date is said before a night is loaded.
        checked_details(asked)
    except LookupError_ as exc:
        raise typer.BadParameter(str(exc)) from None
    runs = paths.runs_root(data)
    night = latest_accepted(runs)
    if night is None:
        raise typer.BadParameter(
            f"no accepted night under {runs} to look up in", param_hint="--data"
        )
    try:
        with step(f"loading night {night.key}"):
            lookup_in = Lookup.of_night(night)
        found = lookup_in.search(asked, limit=limit)
    except LookupError_ as exc:
        raise typer.BadParameter(str(exc)) from None
    if not found:
        typer.echo(f"no golden record matches (night {night.key})")
        return
    if found[0].match_probability < 0.5:
        # Said plainly: the best of them is a guess, not a match.
        typer.echo(f"no confident match (night {night.key}); the closest by these details:")
    else:
        typer.echo(f"{len(found)} candidate(s), night {night.key}:")
    for candidate in found:
        typer.echo(
            f"  {candidate.golden_id}  probability {candidate.match_probability:.4f}: "
            + "; ".join(candidate.reasons)
        )
