"""Content digests of files: proof, later, that a file is the one that was checked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def _update(digest: hashlib._Hash, path: Path) -> None:
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    _update(digest, path)
    return digest.hexdigest()


def files_sha256(paths: Iterable[Path | str]) -> str:
    """One digest of several files' contents, in path order (so listing order is moot)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        _update(digest, path)
    return digest.hexdigest()
