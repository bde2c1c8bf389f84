"""Rows loaded in bulk, the way each database loads fastest: ``COPY`` on PostgreSQL, the
driver's own ``executemany`` on SQLite (no per-row parameter handling in SQLAlchemy).

The golden store's first night writes a million golden records, cross-reference rows and
record hashes, and the CRM publish stages as many; row-by-row ``INSERT`` through
SQLAlchemy's parameter processing was most of their time. Both load through here, inside
the caller's transaction, so a failure leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import pandas as pd
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

_COPY_CHUNK = 50_000
_INSERT_CHUNK = 10_000
_NULL = r"\N"


def _plain_rows(frame: pd.DataFrame) -> Iterable[tuple]:
    plain = frame.astype(object).where(frame.notna(), None)
    return plain.itertuples(index=False, name=None)


def bulk_insert(connection: Connection, table: str, frame: pd.DataFrame) -> None:
    """Append ``frame`` (its columns named as the table's) to ``table``."""
    if frame.empty:
        return
    columns = list(frame.columns)
    if connection.dialect.name == "postgresql":
        _copy(connection, table, frame)
        return
    placeholders = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    for start in range(0, len(frame), _INSERT_CHUNK):
        rows = list(_plain_rows(frame.iloc[start : start + _INSERT_CHUNK]))
        connection.exec_driver_sql(statement, rows)


def _copy(connection: Connection, table: str, frame: pd.DataFrame) -> None:
    raw = connection.connection.dbapi_connection
    dbapi = connection.dialect.dbapi
    assert raw is not None and dbapi is not None  # an open PostgreSQL connection has both
    cursor = raw.cursor()
    statement = (
        f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '{_NULL}')"
    )
    try:
        for start in range(0, len(frame), _COPY_CHUNK):
            buffer = io.StringIO()
            frame.iloc[start : start + _COPY_CHUNK].to_csv(
                buffer, index=False, header=False, na_rep=_NULL, quoting=csv.QUOTE_MINIMAL
            )
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)
    except dbapi.Error as exc:
        # Raw cursor errors bypass SQLAlchemy's wrapping; wrap them so callers see one kind.
        raise DBAPIError(statement, None, exc) from exc
    finally:
        cursor.close()
