"""The golden store: persistent golden IDs, survivorship, history and the change feed."""

from golden_record.golden.identity import IdentityOutcome, assign_persistent_ids, mint_id
from golden_record.golden.store import GoldenStore, RunSummary, StoreError, default_store_url

__all__ = [
    "GoldenStore",
    "IdentityOutcome",
    "RunSummary",
    "StoreError",
    "assign_persistent_ids",
    "default_store_url",
    "mint_id",
]
