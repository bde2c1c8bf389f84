"""Where a generated council's systems are, for each declared source: the one place the
demo, the tests and the benchmarks find the sample's databases, drops and API.

The generator writes each system where its kind says (``write.py``): a ``sql`` source's
SQLite database as ``NAME.db``, a ``csv_drop`` source's drop folder as ``NAME/drop``, an
``http_json`` source's records as ``NAME/*.jsonl`` for the local API server (the portal's).
A database served elsewhere (parking from PostgreSQL in the tests and compose) is given in
``database_urls``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from golden_record.extract.declaration import declared_sources
from golden_record.settings import ApiSettings, DropSettings, SourceSettings


def sample_source_settings(
    sample_dir: Path,
    api: ApiSettings,
    *,
    stable_seconds: float = 0.2,
    database_urls: Mapping[str, str] | None = None,
) -> SourceSettings:
    """Settings reaching every declared source of the sample in ``sample_dir``; ``api`` is
    the local API server's (every ``http_json`` source is served by it). The drops have
    no marker requirement: files the tests write are whole once ``stable_seconds`` pass."""
    sample_dir = Path(sample_dir)
    declared = declared_sources().sources
    return SourceSettings(
        database_urls={
            s.name: f"sqlite:///{sample_dir / f'{s.name}.db'}" for s in declared if s.kind == "sql"
        }
        | dict(database_urls or {}),
        apis={s.name: api for s in declared if s.kind == "http_json"},
        drops={
            s.name: DropSettings(sample_dir / s.name / "drop", stable_seconds=stable_seconds)
            for s in declared
            if s.kind == "csv_drop"
        },
    )


def sample_connections(
    sample_dir: Path,
    api_url: str,
    api_token: str,
    *,
    database_urls: Mapping[str, str] | None = None,
    page_size: int = 1000,
) -> dict[str, dict[str, Any]]:
    """The Airflow connections (by id, as Airflow's JSON form) reaching the same sources."""
    settings = sample_source_settings(
        sample_dir,
        ApiSettings(base_url=api_url, token=api_token),
        database_urls=database_urls,
    )
    api = urlparse(api_url)
    connections: dict[str, dict[str, Any]] = {}
    for source in declared_sources().sources:
        if source.kind == "sql":
            url = settings.database_urls[source.name]
            connections[source.connection] = {"conn_type": "generic", "extra": {"url": url}}
        elif source.kind == "csv_drop":
            folder = str(settings.drops[source.name].folder)
            connections[source.connection] = {"conn_type": "fs", "extra": {"path": folder}}
        else:
            connections[source.connection] = {
                "conn_type": "http",
                "host": api.hostname,
                "port": api.port,
                "schema": api.scheme,
                "password": api_token,
                "extra": {"base_path": api.path, "page_size": page_size, "timeout": 10},
            }
    return connections
