"""Extractors: each declared source system (``sources.toml``) read in its native shape.

An extractor offers ``extract(settings, watermark, run_date) -> raw DataFrame`` (native
columns, unchanged), ``keys(settings)`` (every key, for sources with a watermark) and
``to_canonical(raw) -> DataFrame`` (the canonical person record), with ``SOURCE``,
``KEY_COLUMN`` and ``WATERMARK_COLUMN`` (``None`` for full snapshots). A ``sql`` source is
its declaration alone (:mod:`.sql_database`), as is an ``http_json`` source
(:mod:`.http_api`); the ``csv_drop`` kind is the waste drop's format (:mod:`.waste`).
"""

from __future__ import annotations

from datetime import date
from types import ModuleType
from typing import Protocol

import pandas as pd

from golden_record.extract.declaration import DeclarationError, declared_sources
from golden_record.extract.sources import waste
from golden_record.extract.sources.errors import (
    SourceDataError,
    SourceError,
    SourceUnavailableError,
)
from golden_record.extract.sources.http_api import HttpJsonSource
from golden_record.extract.sources.sql_database import SqlDatabaseSource
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


# The kinds whose format is written in a module of their own (one source each, so far).
_FORMAT_MODULES: dict[str, ModuleType] = {"csv_drop": waste}


def extractor(source: str) -> Extractor:
    """The extractor of the declared source ``source``."""
    declaration = declared_sources()[source]
    if declaration.kind == "sql":
        return SqlDatabaseSource(declaration)
    if declaration.kind == "http_json":
        return HttpJsonSource(declaration)
    module = _FORMAT_MODULES[declaration.kind]
    # The module's format fixes its name, key and watermark; the declaration must agree.
    for name, declared, fixed in (
        ("name", declaration.name, module.SOURCE),
        ("key", declaration.key, module.KEY_COLUMN),
        ("watermark", declaration.watermark, module.WATERMARK_COLUMN),
    ):
        if declared != fixed:
            raise DeclarationError(
                declaration.declared_in,
                declaration.name,
                name if name != "name" else None,
                f"the {declaration.kind} kind reads the {module.SOURCE} system's format, whose "
                f"{name} is {fixed!r}, not {declared!r}",
            )
    return module  # a module of the interface's names satisfies it


__all__ = [
    "Extractor",
    "SourceDataError",
    "SourceError",
    "SourceUnavailableError",
    "extractor",
]
