"""The GX project's suites as files: found, parsed and checked before GX runs them.

A suite that does not parse, or names a column its batch lacks, is a broken gate, not bad
data: it fails the gate with the file and the column named, before anything is validated
or published (GX itself would only report an exception deep in a validation result).
"""

from __future__ import annotations

import json
from pathlib import Path

from golden_record.extract.declaration import SourceDeclaration
from golden_record.paths import EXPECTATIONS_DIR
from golden_record.settings import runtime

RAW_PREFIX = "raw_"
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
    """The suite ``name`` from its file; a declared source with no ``raw_<source>`` suite
    of its own is checked by the one its declaration implies (:func:`declared_raw_suite`)."""
    path = suite_path(name, root)
    if name.startswith(RAW_PREFIX) and not path.is_file():
        from golden_record.extract.declaration import declared_sources

        declared = declared_sources()
        if name.removeprefix(RAW_PREFIX) in declared.names:
            return declared_raw_suite(declared[name.removeprefix(RAW_PREFIX)])
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


def declared_raw_suite(declaration: SourceDeclaration) -> dict:
    """What a source's raw extract must hold by its declaration alone: its key, filled
    and unique; its watermark, filled; every native column its mapping reads. A council
    writes ``raw_<source>.json`` beside the others for more (value formats, code lists)."""
    import uuid

    from golden_record.extract.declaration import mapped_columns

    name = f"{RAW_PREFIX}{declaration.name}"

    def expectation(kind: str, column: str, dimension: str, why: str) -> dict:
        return {
            "type": kind,
            "kwargs": {"column": column},
            "meta": {"dimension": dimension, "why": why},
            "severity": "critical",
            # Stable ids, as the suites' files have: a night's results name the same ones.
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"golden-record:{name}:{kind}:{column}")),
        }

    key = declaration.key
    expectations = [
        expectation("expect_column_to_exist", key, "consistency", "the declared key is there"),
        expectation(
            "expect_column_values_to_not_be_null", key, "completeness", "every row names its record"
        ),
        expectation(
            "expect_column_values_to_be_unique",
            key,
            "uniqueness",
            "one row per record in an extract",
        ),
    ]
    if declaration.watermark:
        expectations += [
            expectation(
                "expect_column_to_exist",
                declaration.watermark,
                "consistency",
                "the declared watermark is there",
            ),
            expectation(
                "expect_column_values_to_not_be_null",
                declaration.watermark,
                "timeliness",
                "every row says when it changed",
            ),
        ]
    for column in mapped_columns(declaration):
        if column not in (key, declaration.watermark):
            expectations.append(
                expectation(
                    "expect_column_to_exist", column, "consistency", "a column the declaration maps"
                )
            )
    return {
        "name": name,
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"golden-record:{name}")),
        "notes": None,
        "meta": {
            "description": f"{declaration.name} as extracted, as its declaration says "
            f"({declaration.declared_in.name})."
        },
        "expectations": expectations,
    }
