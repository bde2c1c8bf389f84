"""The ``sql`` kind: a source system read from a relational database through SQLAlchemy,
as its declaration says (its query, key, watermark and mapping in ``sources.toml``).

Incremental by the declared watermark column (the query reads rows changed after
``:watermark``); deletions are seen by the declared key query each night, the database
having no change log we may read. A declaration without a watermark is read in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from golden_record.extract.sources._sql import read_query
from golden_record.extract.sources.declared import DeclaredSource
from golden_record.extract.sources.errors import SourceDataError, SourceUnavailableError
from golden_record.settings import SourceSettings


@dataclass(frozen=True)
class SqlDatabaseSource(DeclaredSource):
    def _url(self, settings: SourceSettings) -> str:
        url = settings.database_urls.get(self.SOURCE)
        if not url:
            raise SourceUnavailableError(
                self.SOURCE,
                f"no database URL given (the Airflow connection "
                f"{self.declaration.connection!r}, extra.url)",
            )
        return url

    def extract(
        self, settings: SourceSettings, watermark: str | None, run_date: date
    ) -> pd.DataFrame:
        raw = read_query(self.SOURCE, self._url(settings), self.declaration.query or "", watermark)
        for column in (self.KEY_COLUMN, self.WATERMARK_COLUMN):
            if column and column not in raw.columns:
                raise SourceDataError(
                    self.SOURCE,
                    f"the declared query returns no column {column!r} (the declaration's "
                    f"{'key' if column == self.KEY_COLUMN else 'watermark'}, in "
                    f"{self.declaration.declared_in})",
                )
        return raw

    def keys(self, settings: SourceSettings) -> pd.Series:
        """Every record's key, read each night: an index scan, cheap beside the extract."""
        keys = read_query(self.SOURCE, self._url(settings), self.declaration.keys_query or "", None)
        if self.KEY_COLUMN not in keys.columns:
            raise SourceDataError(
                self.SOURCE, f"the declared keys_query returns no column {self.KEY_COLUMN!r}"
            )
        return keys[self.KEY_COLUMN]
