"""Reading the project's TOML configuration files with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path


def read_toml(path: Path, error: type[Exception], what: str) -> dict:
    """Parse ``path``; a missing or malformed file raises ``error`` naming it (and, for
    bad TOML, the line and column)."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{what} file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path} does not parse (not valid TOML): {exc}") from exc
