"""Connections to the CRM database, and what its failures mean in words.

Every publish transaction must hold the write lock from its first statement and give up
after a bounded wait, on both back ends: SQLite gets ``BEGIN IMMEDIATE`` (pysqlite would
otherwise start transactions late and run DDL outside them) and a busy timeout;
PostgreSQL gets a connect timeout and a per-transaction ``lock_timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from golden_record.database_urls import with_installed_driver
from golden_record.settings import runtime

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

CONNECT_TIMEOUT_SECONDS = 10


def lock_timeout_seconds() -> float:
    return runtime().crm_lock_timeout_seconds


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _is_uri(database: str) -> bool:
    return database.startswith("file:")


def crm_engine(url: str, lock_timeout: float | None = None) -> Engine:
    wait = lock_timeout_seconds() if lock_timeout is None else lock_timeout
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not _is_uri(parsed.database):
            # The embedded default creates its folder; a missing or unwritable folder then
            # surfaces as "unable to open database file" on connecting. A "file:" URI
            # (read-only opening) names an existing file and is not a path to create.
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": wait})

        @event.listens_for(engine, "connect")
        def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _take_write_lock(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if backend == "postgresql":
        engine = create_engine(
            with_installed_driver(url), connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )

        @event.listens_for(engine, "begin")
        def _bounded_lock_wait(connection: Connection) -> None:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'")

        return engine
    return create_engine(url)


def lock_publish(connection: Connection) -> None:
    """Hold the publish lock row until the transaction ends (a second publish waits, then
    fails with a lock timeout; on SQLite ``BEGIN IMMEDIATE`` already holds the lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT name FROM crm_publish_lock WHERE name = 'publish' FOR UPDATE")
        )


@dataclass(frozen=True)
class Failure:
    message: str
    transient: bool  # waiting and trying again could help (a lock, a network blip)


def explain(exc: BaseException, url: str, lock_timeout: float | None = None) -> Failure:
    """What went wrong with the CRM database, in a sentence for a data engineer."""
    wait = lock_timeout_seconds() if lock_timeout is None else lock_timeout
    original = getattr(exc, "orig", None) or exc
    # The first line only: drivers add DETAIL lines quoting the failing row.
    message = str(original).strip().splitlines()[0] if str(original).strip() else repr(exc)
    code = getattr(original, "pgcode", None)
    lowered = message.lower()
    where = safe_url(url)
    if code == "55P03" or "lock timeout" in lowered or "database is locked" in lowered:
        return Failure(
            f"the CRM database at {where} stayed locked by another session for {wait:g} s "
            f"(another publish, or a CRM job holding its tables): {message}",
            transient=True,
        )
    unreachable = (
        "could not connect",
        "connection refused",
        "timeout expired",
        "could not translate host name",
        "unable to open database file",
        "server closed the connection",
    )
    invalidated = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if invalidated or any(phrase in lowered for phrase in unreachable):
        return Failure(f"cannot reach the CRM database at {where}: {message}", transient=True)
    if "no space left" in lowered or "database or disk is full" in lowered:
        return Failure(
            f"the CRM database at {where} ran out of disk space: {message}", transient=False
        )
    return Failure(f"the CRM database at {where} refused the publish: {message}", transient=False)
