"""Extractors: each declared source system (``sources.toml``) read in its native shape.

An extractor offers ``extract(settings, watermark, run_date) -> raw DataFrame`` (native
columns, unchanged), ``keys(settings)`` (every key, for sources with a watermark) and
``to_canonical(raw) -> DataFrame`` (the canonical person record), with ``SOURCE``,
``KEY_COLUMN`` and ``WATERMARK_COLUMN`` (``None`` for full snapshots). A ``sql`` source is
its declaration alone (:mod:`.sql_database`), as is an ``http_json`` source
(:mod:`.http_api`) and a ``csv_drop`` one (:mod:`.file_drop`).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import pandas as pd

from golden_record.extract.declaration import declared_sources
from golden_record.extract.sources.errors import (
    SourceDataError,
    SourceError,
    SourceUnavailableError,
)
from golden_record.settings import SourceSettings


class Extractor(Protocol):
    @property
    def SOURCE(self) -> str: ...  # noqa: N802 - constants of the modules this began with

    @property
    def KEY_COLUMN(self) -> str: ...  # noqa: N802

    @property
    def WATERMARK_COLUMN(self) -> str | None: ...  # noqa: N802

    def extract(
        self, settings: SourceSettings, watermark: str | None, run_date: date
    ) -> pd.DataFrame: ...

    def keys(self, settings: SourceSettings) -> pd.Series: ...

    def to_canonical(self, raw: pd.DataFrame) -> pd.DataFrame: ...


def extractor(source: str) -> Extractor:
    """The extractor of the declared source ``source``."""
    # Each kind's module is imported when a source of that kind is extracted: a task
    # reading a file drop need not load a database driver's toolkit or an HTTP client
    # (SQLAlchemy and httpx are half a second of every task's start).
    declaration = declared_sources()[source]
    if declaration.kind == "sql":
        from golden_record.extract.sources.sql_database import SqlDatabaseSource

        return SqlDatabaseSource(declaration)
    if declaration.kind == "http_json":
        from golden_record.extract.sources.http_api import HttpJsonSource

        return HttpJsonSource(declaration)
    from golden_record.extract.sources.file_drop import CsvDropSource

    return CsvDropSource(declaration)


__all__ = [
    "Extractor",
    "SourceDataError",
    "SourceError",
    "SourceUnavailableError",
    "extractor",
]
