"""Suppression: an erased resident's source records are never brought back by a night.

Erasure removes a person from the golden store and the CRM, but their records stay in
the source systems until each system's owner deletes them, and the next nightly extract
would read them again. Each erased record is kept as an HMAC-SHA256 of its key
(``system:record id``) under a secret key, so the list holds no personal data and cannot
be turned back into record ids without the key; each extract drops the rows whose hash
is listed before anything is landed.

The key is ``GOLDEN_RECORD_SUPPRESSION_KEY`` (hex; production keeps it in a secrets
store), else ``<data>/secrets/suppression.key``, made (mode 0600) at the first erasure.
The key must stay the same for as long as the list is used: a new key makes every entry
unrecognisable, and the extracts refuse to run with entries but no key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import pandas as pd

from golden_record.golden.store import suppressed_hashes
from golden_record.keys import held_in

KEY_VARIABLE = "GOLDEN_RECORD_SUPPRESSION_KEY"


class SuppressionKeyError(RuntimeError):
    """The suppression list cannot be applied or extended without its key."""


def key_file(data_root: Path) -> Path:
    return Path(data_root) / "secrets" / "suppression.key"


def read_key(data_root: Path, create: bool = False) -> bytes | None:
    """The key, from the environment or the data folder's key file (``create``: make the
    file when neither exists)."""
    from golden_record.settings import runtime

    given = runtime().suppression_key
    if given:
        try:
            return bytes.fromhex(given)
        except ValueError:
            raise SuppressionKeyError(
                f"{KEY_VARIABLE} is not hexadecimal: give the key as hex digits (64 of them)"
            ) from None
    path = key_file(data_root)
    if path.is_file():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    made = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    os.replace(made, path)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def record_hashes(key: bytes, unique_ids: pd.Series | list[str]) -> list[str]:
    """The keyed hash of each ``system:record id``."""
    return [hmac.new(key, str(u).encode("utf-8"), hashlib.sha256).hexdigest() for u in unique_ids]


def listed(store_url: str) -> set[str]:
    """Every suppressed record's hash; empty when the store has no list (or no store)."""
    return suppressed_hashes(store_url)


def suppressed_rows(
    source: str, keys: pd.Series, store_url: str, data_root: Path
) -> pd.Series | None:
    """Which of a source's rows (by their record id) are suppressed, or None when nothing
    is (the usual night: no key needed)."""
    hashes = listed(store_url)
    if not hashes:
        return None
    key = read_key(data_root)
    if key is None:
        raise SuppressionKeyError(
            f"the golden store lists {len(hashes)} erased record(s) but there is no "
            f"suppression key ({KEY_VARIABLE} or {key_file(data_root)}): without it the "
            f"{source} extract cannot leave them out. Restore the key; nothing was extracted"
        )
    unique = [f"{source}:{v}" for v in keys.astype("string").str.strip().fillna("")]
    return pd.Series(held_in(pd.Series(record_hashes(key, unique)), hashes), index=keys.index)
