"""``python -m devtools``: the development commands (:mod:`devtools.cli`)."""

from devtools.cli import app

app()
