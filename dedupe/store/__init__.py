"""The golden store: persistent golden IDs, survivorship, history and the change feed."""

from dedupe.store.golden_store import GoldenStore, RunSummary, StoreError, default_store_url
from dedupe.store.identity import IdentityOutcome, assign_persistent_ids, mint_id

__all__ = [
    "GoldenStore",
    "IdentityOutcome",
    "RunSummary",
    "StoreError",
    "assign_persistent_ids",
    "default_store_url",
    "mint_id",
]
