"""The command line's database options: their defaults (the demo's files) and the checks
that turn a mistyped URL or path into one line saying what to try.

A read-only command never creates a database: SQLite would make an empty file at a
mistyped path and the command would then report an empty store ("0 pairs awaiting
review") or a CRM at "contract v0", as if that were the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from golden_record.golden import GoldenStore


def demo_store_url() -> str:
    """The golden store the demo and the nightly DAG write by default."""
    from golden_record import paths

    return f"sqlite:///{paths.data_root() / 'golden_store.db'}"


def demo_crm_url() -> str:
    """The CRM database the demo publishes to."""
    from golden_record import paths

    return f"sqlite:///{paths.data_root() / 'crm.db'}"


def database_url(value: str, option: str, must_exist: bool = True) -> str:
    """``value`` checked as a SQLAlchemy database URL (and, for SQLite with
    ``must_exist``, as a file that is there); a ``typer.BadParameter`` naming ``option``
    and what to write instead otherwise."""
    # Here, not at the top: `--help` should not wait for SQLAlchemy.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(value)
    except ArgumentError:
        hint = f"sqlite:///{value}" if not value.startswith(("sqlite", "postgres")) else None
        raise typer.BadParameter(
            f"{value!r} is not a database URL"
            + (f"; for a file, write {hint}" if hint else " (sqlite:///PATH or postgresql://…)"),
            param_hint=option,
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise typer.BadParameter(
            f"{parsed.render_as_string(hide_password=True)}: only SQLite and PostgreSQL "
            "databases are supported",
            param_hint=option,
        )
    if must_exist and backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.is_file():
            raise typer.BadParameter(
                f"no database file at {path} (a mistyped path? this command never creates "
                "one; the demo writes data/golden_store.db and data/crm.db)",
                param_hint=option,
            )
    return value


StoreOption = Annotated[
    str,
    typer.Option(
        help="Golden store URL, e.g. sqlite:///out/golden_store.db "
        "[default: the demo's, data/golden_store.db]",
        default_factory=demo_store_url,
        show_default=False,
    ),
]


def existing_store(url: str) -> GoldenStore:
    """An existing golden store: review commands never create one."""
    from golden_record.golden import GoldenStore, StoreError

    database_url(url, "--store", must_exist=False)  # the store names a missing file itself
    try:
        return GoldenStore(url, must_exist=True)
    except StoreError as exc:
        raise typer.BadParameter(str(exc), param_hint="--store") from None


CrmOption = Annotated[
    str,
    typer.Option(
        "--crm",
        help="CRM database URL, e.g. postgresql+psycopg2://…/crm [default: the demo's, "
        "data/crm.db]",
        default_factory=demo_crm_url,
        show_default=False,
    ),
]
