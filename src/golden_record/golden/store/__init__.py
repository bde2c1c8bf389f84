"""The golden store: golden records, their cross-reference, history, events and runs.

Split by job: :mod:`.common` (errors, engines, hashing), :mod:`.reading` (queries),
:mod:`.applying` (a night applied, staged, accepted or taken back), :mod:`.review` (the
doubtful pairs kept for stewards). Callers use :class:`GoldenStore`.
"""

from golden_record.golden.store.applying import GoldenStore
from golden_record.golden.store.common import (
    CHUNK,
    RunSummary,
    StoreError,
    default_store_url,
    engine_for,
    fingerprint,
    missing_sqlite_file,
    parse_attributes,
    survivorship_digest,
)
from golden_record.golden.store.reading import StoreReading

__all__ = [
    "CHUNK",
    "GoldenStore",
    "RunSummary",
    "StoreError",
    "StoreReading",
    "default_store_url",
    "engine_for",
    "fingerprint",
    "missing_sqlite_file",
    "parse_attributes",
    "survivorship_digest",
]
