"""The golden store: golden records, their cross-reference, history, events and runs.

Split by job: :mod:`.common` (errors, engines, hashing), :mod:`.reading` (queries),
:mod:`.applying` (a night applied, staged, accepted or taken back), :mod:`.review` (the
doubtful pairs a night keeps for stewards), :mod:`.stewards` (decisions, the queue,
acceptances), :mod:`.requests`, :mod:`.rectifications`, :mod:`.restrictions`,
:mod:`.erasure` and :mod:`.person` (residents' rights). Callers use
:class:`GoldenStore` (:mod:`.golden_store`); nothing outside this package writes SQL
against the store's tables.
"""

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
from golden_record.golden.store.erasure import suppressed_hashes
from golden_record.golden.store.golden_store import GoldenStore
from golden_record.golden.store.person import PersonHistory
from golden_record.golden.store.reading import StoreReading

__all__ = [
    "CHUNK",
    "GoldenStore",
    "RunSummary",
    "PersonHistory",
    "StoreError",
    "StoreReading",
    "default_store_url",
    "engine_for",
    "fingerprint",
    "missing_sqlite_file",
    "parse_attributes",
    "suppressed_hashes",
    "survivorship_digest",
]
