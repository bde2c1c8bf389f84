"""The GX project's suites as files: found, parsed and checked before GX runs them.

A suite that does not parse, or names a column its batch lacks, is a broken gate, not bad
data: it fails the gate with the file and the column named, before anything is validated
or published (GX itself would only report an exception deep in a validation result).
"""

from __future__ import annotations

import json
from pathlib import Path

from golden_record.paths import EXPECTATIONS_DIR
from golden_record.settings import runtime

# Expectation arguments that name columns of the batch.
_COLUMN_ARGUMENTS = ("column", "column_A", "column_B")
_COLUMN_LIST_ARGUMENTS = ("column_list",)


class QualityConfigError(ValueError):
    """The quality configuration (suites, bands) is missing, unreadable or inconsistent."""


def expectations_root() -> Path:
    """The folder holding the GX project (``gx/``) and ``gates.toml``."""
    return runtime().expectations or EXPECTATIONS_DIR


def gx_project_dir(root: Path | None = None) -> Path:
    return (root or expectations_root()) / "gx"


def suite_path(name: str, root: Path | None = None) -> Path:
    return gx_project_dir(root) / "expectations" / f"{name}.json"


def read_suite(name: str, root: Path | None = None) -> dict:
    path = suite_path(name, root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise QualityConfigError(f"expectation suite {name!r} not found: {path}") from exc
    try:
        suite = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QualityConfigError(
            f"expectation suite file {path} does not parse: line {exc.lineno}, "
            f"column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(suite, dict) or not isinstance(suite.get("expectations"), list):
        raise QualityConfigError(f"expectation suite file {path} has no 'expectations' list")
    if suite.get("name") != name:
        raise QualityConfigError(
            f"expectation suite file {path} names suite {suite.get('name')!r}, not {name!r}"
        )
    for number, expectation in enumerate(suite["expectations"], start=1):
        if not isinstance(expectation, dict) or "type" not in expectation:
            raise QualityConfigError(f"{path}: expectation {number} has no 'type'")
        if expectation.get("severity", "critical") not in ("critical", "warning", "info"):
            raise QualityConfigError(
                f"{path}: expectation {number} ({expectation['type']}) has severity "
                f"{expectation['severity']!r}; use critical, warning or info"
            )
    return suite


def columns_named(expectation: dict) -> list[str]:
    kwargs = expectation.get("kwargs", {})
    named = [kwargs[a] for a in _COLUMN_ARGUMENTS if isinstance(kwargs.get(a), str)]
    for argument in _COLUMN_LIST_ARGUMENTS:
        named += list(kwargs.get(argument) or [])
    return named


def check_columns(suite: dict, columns: list[str], batch: str) -> None:
    """Fail, naming suite, expectation and column, when the batch lacks a named column.

    ``expect_column_to_exist`` is the exception: a missing column is what it reports.
    """
    present = set(columns)
    for expectation in suite["expectations"]:
        if expectation["type"] == "expect_column_to_exist":
            continue
        missing = [c for c in columns_named(expectation) if c not in present]
        if missing:
            raise QualityConfigError(
                f"suite {suite['name']!r}, {expectation['type']}: column {missing[0]!r} is "
                f"not in {batch} (columns: {', '.join(sorted(present)) or 'none'})"
            )


def columns_read(suite: dict) -> list[str]:
    """Every column a suite's expectations read, in first-use order."""
    seen: dict[str, None] = {}
    for expectation in suite["expectations"]:
        for column in columns_named(expectation):
            seen.setdefault(column, None)
    return list(seen)
