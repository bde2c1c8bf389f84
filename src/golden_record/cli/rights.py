"""``golden-record rights``: residents' rights (UK GDPR Articles 15–18): ``sar``,
``correct``, ``withdraw-correction``, ``erase``, ``restrict``, ``lift-restriction`` and
``requests``. Each needs who handles it (``--by``) and its legal basis (``--basis``) and
is recorded in the golden store; none prints a resident's details to a log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from golden_record.cli.options import StoreOption, database_url, existing_store
from golden_record.cli.progress import step

By = Annotated[str, typer.Option(help="Who handles the request (name or staff id).")]
Basis = Annotated[
    str,
    typer.Option(
        help="The legal basis and the request, e.g. 'UK GDPR Art. 15, request of 2 Dec' "
        "(Art. 15 access, 16 rectification, 17 erasure, 18 restriction)."
    ),
]
Reason = Annotated[str, typer.Option(help="Why, for the record.")]
Data = Annotated[
    Path | None, typer.Option(help="Pipeline data folder (default GOLDEN_RECORD_DATA).")
]
Crm = Annotated[
    str | None,
    typer.Option(help="CRM database URL (default: the demo's data/crm.db, if there)."),
]


def _data(data: Path | None) -> Path:
    from golden_record import paths

    return data or paths.data_root()


def _crm(crm: str | None, root: Path) -> str | None:
    """The CRM named, else the demo's file if it exists (a rights change must reach the
    CRM the residents' data went to)."""
    if crm:
        return database_url(crm, "--crm")
    demo = root / "crm.db"
    return f"sqlite:///{demo}" if demo.is_file() else None


def _refused(exc: Exception, hint: str | None = None) -> typer.BadParameter:
    return typer.BadParameter(str(exc), param_hint=hint)


def sar(
    out: Annotated[Path, typer.Option(help="Folder to write subject-access-ID/ into.")],
    store: StoreOption,
    by: By,
    basis: Basis,
    golden_id: Annotated[str | None, typer.Option(help="The person's golden ID.")] = None,
    find: Annotated[
        str | None,
        typer.Option(
            help="Find the person first from details: name, date of birth, postcode, email "
            "(e.g. 'Jane Smith, 03/02/1980, AB1 2CD'). Lists candidates; nothing is written."
        ),
    ] = None,
    crm: Crm = None,
    data: Data = None,
    limit: Annotated[int, typer.Option(help="Candidates listed by --find.")] = 5,
    notice: Annotated[
        Path | None,
        typer.Option(
            help="The council's privacy notice for the letter (a copy of the packaged "
            "privacy_notice.toml in your words; default GOLDEN_RECORD_PRIVACY_NOTICE)."
        ),
    ] = None,
) -> None:
    """A subject access request: a letter the resident can read (letter.html: their
    records as each service holds them, their combined record, and what Art. 15 says
    they must be told), a technical annex for the officer and JSON; recorded with who
    handled it and its legal basis (`golden-record rights requests`)."""
    from golden_record.golden import StoreError
    from golden_record.publish import exports_root
    from golden_record.rights import requests
    from golden_record.rights.letter import NoticeError, load_notice
    from golden_record.rights.subject_access import ANNEX, LETTER, gather, write

    if not by.strip() or not basis.strip():
        raise typer.BadParameter("a request needs who handles it and its legal basis")
    if (golden_id is None) == (find is None):
        raise typer.BadParameter("give the person's --golden-id, or --find their details")
    root = _data(data)
    golden_store = existing_store(store)
    if find is not None:
        _list_candidates(golden_store, find, root, limit)
        return
    assert golden_id is not None
    try:
        letter_notice = load_notice(notice)
    except NoticeError as exc:
        raise _refused(exc, "--notice") from None
    try:
        with step(f"gathering what is held about {golden_id}"):
            found = gather(golden_store, golden_id, root, _crm(crm, root), exports_root(root))
    except StoreError as exc:
        raise _refused(exc, "--golden-id") from None
    folder = write(found, out, letter_notice)
    produced = {
        "folder": str(folder),
        "source_records": len(found["source_records"]),
        "versions": len(found["history"]),
        "change_events": len(found["change_events"]),
    }
    requests.record(golden_store, "access", golden_id, by, basis, produced)
    typer.echo(
        f"{len(found['source_records'])} source record(s) in "
        f"{len({r['source_system'] for r in found['source_records']})} system(s), "
        f"{len(found['history'])} version(s), {len(found['change_events'])} change(s) → {folder}"
    )
    typer.echo(f"  {LETTER}: the response to send; {ANNEX}: the detail, for you")
    if letter_notice.placeholder:
        typer.echo(
            f"  the letter uses the packaged privacy notice's general wording "
            f"({letter_notice.path}): give your council's own with --notice"
        )


def _list_candidates(store: Any, details: str, root: Path, limit: int) -> None:
    """The golden records ``details`` may be, for the officer to choose from (shown on
    the terminal, never logged)."""
    from golden_record import paths
    from golden_record.matching.lookup import Lookup, LookupError_, latest_accepted
    from golden_record.rights.finding import parse_details

    try:
        asked = parse_details(details)
        night = latest_accepted(paths.runs_root(root))
        if night is None:
            raise LookupError_(f"no accepted night under {paths.runs_root(root)} to search")
        with step(f"loading night {night.key}"):
            found = Lookup.of_night(night).search(asked, limit=limit)
    except LookupError_ as exc:
        raise _refused(exc, "--find") from None
    if not found:
        typer.echo(f"no golden record matches those details (night {night.key})")
        return
    typer.echo(f"{len(found)} candidate(s); run sar again with --golden-id of the right one:")
    for candidate in found:
        shown = store.golden_record(candidate.golden_id) or {}
        who = (
            " ".join(
                str(shown[c])
                for c in ("first_name", "surname", "date_of_birth", "postcode")
                if shown.get(c) is not None
            )
            or "(not an active golden record)"
        )
        typer.echo(f"  {candidate.golden_id}  probability {candidate.match_probability:.4f}  {who}")


def correct(
    golden_id: Annotated[str, typer.Argument(help="The golden ID to correct.")],
    field: Annotated[str, typer.Option(help="The attribute, e.g. email, phone, surname.")],
    value: Annotated[str, typer.Option(help="The correct value.")],
    reason: Reason,
    by: By,
    basis: Basis,
    store: StoreOption,
    data: Data = None,
) -> None:
    """Rectification: a steward's correction of one attribute, shown instead of the
    sources' value until the source agrees or it is withdrawn; published with the next
    night as an 'updated' change."""
    from golden_record.golden import StoreError
    from golden_record.rights.correction import correct as make

    try:
        made = make(existing_store(store), golden_id, field, value, by, basis, reason, _data(data))
    except StoreError as exc:
        raise _refused(exc) from None
    typer.echo(
        f"correction {made['correction_id']} of {field} for {golden_id} recorded (request "
        f"#{made['request_id']}); it takes effect {made['takes_effect']}"
    )
    held = made["still_held_by"]
    if held:
        typer.echo(f"{len(held)} source record(s) still hold the old value; ask their owners:")
        for record in held:
            typer.echo(f"  {record}")


def withdraw_correction(
    correction_id: Annotated[int, typer.Argument(help="The correction's number.")],
    reason: Reason,
    by: By,
    basis: Basis,
    store: StoreOption,
) -> None:
    """End a correction: survivorship chooses the attribute again from the next night."""
    from golden_record.golden import StoreError
    from golden_record.rights.correction import withdraw

    try:
        done = withdraw(existing_store(store), correction_id, by, basis, reason)
    except StoreError as exc:
        raise _refused(exc) from None
    typer.echo(
        f"correction {correction_id} of {done['golden_id']} withdrawn (request "
        f"#{done['request_id']}); the next night chooses {done['field']} from the sources"
    )


def _crm_line(crm: dict) -> str:
    if crm.get("published"):
        return f"the CRM now shows it (publish {crm['publish_id']}, run {crm['run_key']})"
    return f"the CRM was not changed: {crm.get('why')}"


def erase(
    golden_id: Annotated[str, typer.Argument(help="The golden ID to erase.")],
    reason: Reason,
    by: By,
    basis: Basis,
    out: Annotated[
        Path, typer.Option(help="Folder for erasure-ID/ with the list for the sources' owners.")
    ],
    store: StoreOption,
    crm: Crm = None,
    data: Data = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be erased; change nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Erase without asking (a script; check with --dry-run first)."),
    ] = False,
) -> None:
    """Erasure: the person removed from the golden store (current and history), the CRM
    and the pipeline's files, and kept out of later nights. Cannot be undone: it lists
    what will go and asks you to type the golden ID (`--dry-run` only lists)."""
    from golden_record.golden import StoreError
    from golden_record.rights.erasure import erase as run_erase
    from golden_record.rights.erasure import preview
    from golden_record.rights.suppression import SuppressionKeyError

    root = _data(data)
    the_store = existing_store(store)
    if dry_run or not yes:
        try:
            with step(f"finding what erasing {golden_id} would remove"):
                would = preview(the_store, golden_id, root)
        except StoreError as exc:
            raise _refused(exc) from None
        _print_preview(would, crm=_crm(crm, root))
        if dry_run:
            typer.echo("dry run: nothing was changed")
            return
        try:
            answer = typer.prompt(
                f"This cannot be undone. Type {golden_id} to erase it",
                default="",
                show_default=False,
            )
        except typer.Abort:
            answer = ""
        if answer.strip() != golden_id:
            typer.echo(f"not erased: {golden_id} was not typed (--yes erases without asking)")
            raise typer.Exit(1)
    try:
        with step(f"erasing {golden_id}"):
            done = run_erase(the_store, golden_id, by, basis, reason, root, _crm(crm, root), out)
    except (StoreError, SuppressionKeyError) as exc:
        raise _refused(exc) from None
    if done["resumed"]:
        typer.echo(
            f"{golden_id} was already erased (request #{done['request_id']}); "
            + _crm_line(done["crm"])
        )
        return
    typer.echo(
        f"erased {golden_id} (request #{done['request_id']}): "
        f"{done['source_records_suppressed']} source record(s) suppressed, "
        f"{sum(done['store_rows_removed'].values())} store row(s) and "
        f"{done['file_rows_removed']} file row(s) removed; " + _crm_line(done["crm"])
    )
    typer.echo(f"for the source systems' owners to delete: {done['deletion_list']}")
    for path in done["text_files_still_naming_them"]:
        typer.echo(f"  still named in {path} (delete it, or keep it as retention allows)")


def _print_preview(would: dict[str, Any], crm: str | None) -> None:
    """What an erasure would remove, in counts and ids (no personal data)."""
    merged = [g for g in would["golden_ids"] if g != would["golden_id"]]
    typer.echo(
        f"erasing {would['golden_id']}"
        + (f" (and {', '.join(merged)}, merged into it)" if merged else "")
        + " would remove:"
    )
    held = ", ".join(f"{n} in {system}" for system, n in would["source_records"].items())
    typer.echo(
        f"  source records: {len(would['records'])} ({held}), each suppressed from later nights"
    )
    rows = {table: n for table, n in would["store_rows"].items() if n}
    typer.echo(
        f"  golden store: {sum(rows.values())} row(s) ("
        + ", ".join(f"{table} {n}" for table, n in rows.items())
        + ")"
    )
    typer.echo(f"  pipeline files: {would['file_rows']} row(s) in {len(would['files'])} file(s)")
    typer.echo(
        "  CRM: its tables and views, with an 'erased' event in the change feed"
        if crm
        else "  CRM: none given (--crm); the next night's publish leaves them out"
    )
    for run_key in would["runs_taken_back"]:
        typer.echo(f"  night {run_key}, staged and not yet decided, would be taken back")
    for path in would["text_files_naming_them"]:
        typer.echo(
            f"  still named in {path} afterwards (delete it, or keep it as retention allows)"
        )


def restrict(
    golden_id: Annotated[str, typer.Argument(help="The golden ID to restrict.")],
    reason: Reason,
    by: By,
    basis: Basis,
    store: StoreOption,
    crm: Crm = None,
    data: Data = None,
) -> None:
    """Restriction: keep the person's data but stop publishing it (the CRM's views lose
    them now, and every night after) until lifted."""
    from golden_record.golden import StoreError
    from golden_record.rights.restriction import restrict as run_restrict

    root = _data(data)
    try:
        done = run_restrict(
            existing_store(store), golden_id, by, basis, reason, _crm(crm, root), root
        )
    except StoreError as exc:
        raise _refused(exc) from None
    typer.echo(f"{golden_id} restricted (request #{done['request_id']}); " + _crm_line(done["crm"]))


def lift_restriction(
    golden_id: Annotated[str, typer.Argument(help="The golden ID whose restriction ends.")],
    reason: Reason,
    by: By,
    basis: Basis,
    store: StoreOption,
    crm: Crm = None,
    data: Data = None,
) -> None:
    """Lift a restriction: the person is published again."""
    from golden_record.golden import StoreError
    from golden_record.rights.restriction import lift

    root = _data(data)
    try:
        done = lift(existing_store(store), golden_id, by, basis, reason, _crm(crm, root), root)
    except StoreError as exc:
        raise _refused(exc) from None
    typer.echo(
        f"restriction of {golden_id} lifted (request #{done['request_id']}); "
        + _crm_line(done["crm"])
    )


def requests_list(store: StoreOption) -> None:
    """Every residents' rights request answered from the store: who, when, on what legal
    basis, what was produced."""
    from golden_record.rights.requests import listed

    made = listed(existing_store(store))
    typer.echo(f"{len(made)} request(s)")
    for row in made.itertuples(index=False):
        typer.echo(
            f"  #{row.request_id} {row.made_at} {row.kind} {row.golden_id} by "
            f"{row.requested_by} ({row.legal_basis}): {row.produced}"
        )


app = typer.Typer(
    rich_markup_mode="markdown",
    no_args_is_help=True,
    help="Residents' rights (UK GDPR Art. 15–18): access, rectification, erasure, restriction.",
)
app.command()(sar)
app.command()(correct)
app.command("withdraw-correction")(withdraw_correction)
app.command()(erase)
app.command()(restrict)
app.command("lift-restriction")(lift_restriction)
app.command("requests")(requests_list)
