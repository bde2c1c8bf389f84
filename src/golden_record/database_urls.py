"""Database URLs as people write them, made to use a driver that is installed.

SQLAlchemy 2.1 reads ``postgresql://`` as ``postgresql+psycopg://`` (psycopg 3); the
project installs psycopg2, so a plain URL, as a council's engineer or a ``.env`` file
would write it, failed with "No module named 'psycopg'". A URL naming no driver gets the
one that is installed; a URL naming one is left as written.
"""

from __future__ import annotations

import importlib.util

from sqlalchemy.engine import URL, make_url

# psycopg 3 first: SQLAlchemy's own default, when it is there.
POSTGRESQL_DRIVERS = (("psycopg", "psycopg"), ("psycopg2", "psycopg2"))


def with_installed_driver(url: str | URL) -> URL:
    """``url`` with an installed driver when it names none (PostgreSQL only)."""
    parsed = make_url(url)
    if parsed.drivername != "postgresql":
        return parsed
    for module, driver in POSTGRESQL_DRIVERS:
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=f"postgresql+{driver}")
    return parsed
