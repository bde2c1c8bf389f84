"""``golden-record``'s entry point: any failure is one or two lines saying what was wrong
and what to try, and a traceback only with ``--debug``.

Tracebacks are for the people who wrote the code; a data steward or an engineer on call
needs the sentence at the bottom of one, without 30 lines of frames around it (and
without a database driver's message quoting a resident's row).
"""

from __future__ import annotations

import sys

import typer

DEBUG_FLAG = "--debug"


def _sentence(exc: BaseException) -> str:
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        original = getattr(exc, "orig", None) or exc
        # The first line only: drivers add DETAIL lines quoting the failing row.
        lines = str(original).strip().splitlines()
        first = lines[0] if lines else type(exc).__name__
        return f"the database refused or could not be reached: {first}"
    if isinstance(exc, FileNotFoundError):
        # Some readers (pyarrow's) give only the path, as the message.
        return f"no such file: {exc.filename or str(exc).strip()}"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"not allowed to read or write {exc.filename}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    """Run the command line; exit 1 with a short message on any error."""
    from golden_record.cli import app

    args = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in args
    args = [a for a in args if a != DEBUG_FLAG]
    try:
        app(args=args, prog_name="golden-record")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
        raise SystemExit(130) from None
    except Exception as exc:
        if debug:
            raise
        typer.echo(f"golden-record: {_sentence(exc)}", err=True)
        typer.echo(f"(run again with {DEBUG_FLAG} for the details)", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
