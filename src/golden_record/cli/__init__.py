"""The ``golden-record`` command line: train, match, evaluate, review, nights, the CRM and
residents' rights.

One module per command group (:mod:`.matching`, :mod:`.lookup`, :mod:`.review`,
:mod:`.night`, :mod:`.crm`, :mod:`.rights`, :mod:`.sources`); :mod:`.main` is the
installed entry point, turning any failure into a sentence. The sample-council generator
and its portal server are development tools (``python -m devtools``), not part of the
installed command.
"""

import typer

from golden_record.cli import crm, lookup, matching, night, review, rights, sources

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    # Help as Markdown: paragraphs reflowed to the terminal's width (the docstrings'
    # line breaks are the source's, not sentences'), ``code`` shown as code.
    rich_markup_mode="markdown",
    help="Golden customer records: match records, review doubtful pairs, follow up nights, "
    "the CRM, residents' rights and the source systems.",
)
# The matching commands and lookup sit at the top level; the rest are groups.
app.registered_commands.extend(matching.app.registered_commands)
app.registered_commands.extend(lookup.app.registered_commands)
app.add_typer(review.app, name="review")
app.add_typer(night.app, name="night")
app.add_typer(crm.app, name="crm")
app.add_typer(rights.app, name="rights")
app.add_typer(sources.app, name="sources")

__all__ = ["app"]
