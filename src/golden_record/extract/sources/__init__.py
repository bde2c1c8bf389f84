"""Extractors: one module per council source system, each reading its native shape.

Every module offers ``extract(settings, watermark) -> raw DataFrame`` (native columns,
unchanged) and ``to_canonical(raw) -> DataFrame`` (the canonical person record), plus
``WATERMARK_COLUMN`` naming the native change timestamp, or ``None`` for full snapshots.
"""

from __future__ import annotations

from types import ModuleType

from golden_record.extract.sources import housing, portal, revenues, waste
from golden_record.extract.sources.errors import (
    SourceDataError,
    SourceError,
    SourceUnavailableError,
)

EXTRACTORS: dict[str, ModuleType] = {
    "revenues": revenues,
    "housing": housing,
    "waste": waste,
    "portal": portal,
}

__all__ = ["EXTRACTORS", "SourceDataError", "SourceError", "SourceUnavailableError"]
