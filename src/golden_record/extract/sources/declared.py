"""What every declared source's extractor shares: its names from the declaration and the
mapping of its rows to canonical records; each kind adds how it reads its system."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from golden_record.extract.declaration import SourceDeclaration, mapped_columns
from golden_record.extract.sources.mapping import to_canonical


@dataclass(frozen=True)
class DeclaredSource:
    declaration: SourceDeclaration

    @property
    def SOURCE(self) -> str:  # noqa: N802 - the extractor interface's names
        return self.declaration.name

    @property
    def KEY_COLUMN(self) -> str:  # noqa: N802
        return self.declaration.key

    @property
    def WATERMARK_COLUMN(self) -> str | None:  # noqa: N802
        return self.declaration.watermark

    @property
    def landed_columns(self) -> list[str]:
        """The native columns the declaration reads: its key, mapped columns, watermark."""
        named = [self.KEY_COLUMN, *mapped_columns(self.declaration), self.WATERMARK_COLUMN]
        return [column for column in dict.fromkeys(named) if column]

    def to_canonical(self, raw: pd.DataFrame) -> pd.DataFrame:
        return to_canonical(self.declaration, raw)
