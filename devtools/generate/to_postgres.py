"""A generated system's SQLite database copied into PostgreSQL, as the council serves it.

The sample council's parking permits system is written as SQLite like the others
(``write.py``); the tests and compose serve it from PostgreSQL, as permit systems are:
its declared DDL (``sql/sources/<system>_schema.sql``, portable) builds the tables there,
with real ``TIMESTAMP`` and ``DATE`` columns, and the rows are copied with ``COPY``.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine

from golden_record.database_urls import with_installed_driver
from golden_record.paths import SQL_DIR


def copy_sqlite_to_postgres(sqlite_path: Path, schema: str, url: str) -> dict[str, int]:
    """Every table of ``schema`` (a file under ``sql/sources``) built in the PostgreSQL
    database at ``url`` and filled from ``sqlite_path``, in one transaction, replacing
    what an earlier copy made (compose loads the sample on every start); the rows copied
    per table."""
    ddl = (SQL_DIR / "sources" / schema).read_text(encoding="utf-8")
    statements = [code for s in ddl.split(";") if (code := _without_comments(s))]
    copied: dict[str, int] = {}
    engine = create_engine(with_installed_driver(url))
    try:
        with sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True) as source:
            tables = [s.split()[5] for s in statements if s.upper().startswith("CREATE TABLE")]
            connection = engine.raw_connection()
            try:
                cursor = connection.cursor()
                for table in reversed(tables):  # referencing tables first
                    cursor.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in statements:
                    cursor.execute(statement)
                for table in tables:  # in the DDL's order: referenced tables first
                    rows = source.execute(f"SELECT * FROM {table}")  # noqa: S608 - DDL's names
                    columns = [d[0] for d in rows.description]
                    buffer = io.StringIO()
                    writer = csv.writer(buffer)
                    count = 0
                    for row in rows:
                        writer.writerow(["\\N" if v is None else v for v in row])
                        count += 1
                    buffer.seek(0)
                    _copy(cursor, table, columns, buffer)
                    copied[table] = count
                connection.commit()
            finally:
                connection.close()
    finally:
        engine.dispose()
    return copied


def _without_comments(statement: str) -> str:
    lines = statement.splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith("--")).strip()


def _copy(cursor, table: str, columns: list[str], buffer: io.StringIO) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    if hasattr(cursor, "copy_expert"):  # psycopg2
        cursor.copy_expert(sql, buffer)
    else:  # psycopg 3
        with cursor.copy(sql) as copy:
            copy.write(buffer.getvalue())
