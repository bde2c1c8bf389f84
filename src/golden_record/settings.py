"""Every setting the pipeline reads, in one place, from configuration, never from code.

:class:`RuntimeSettings` holds every ``GOLDEN_RECORD_*`` environment variable the runtime
and the DAG files read (:func:`runtime` reads them all at once, checking each, so a
malformed value is named before any work starts). :class:`SourceSettings` says where the
source systems are: outside Airflow from environment variables, inside Airflow built by
the plugin from Airflow connections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class ApiSettings:
    """Where an ``http_json`` source is: its base URL and bearer token, the page size it is
    asked for and how long a page may take."""

    base_url: str
    token: str = field(default="", repr=False)
    page_size: int = 500
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class DropSettings:
    """Where a ``csv_drop`` source's files are and when one is whole: ``complete_when``
    "marker" (its ``.done`` file is there) or "stable" (its ``.done`` file is there, or the
    file has not changed for ``stable_seconds``)."""

    folder: Path
    complete_when: str = "stable"
    stable_seconds: float = 30.0


@dataclass(frozen=True)
class SourceSettings:
    """Where each source system is, by the source's declared name
    (``golden_record/extract/sources.toml``): the ``sql`` sources' SQLAlchemy URLs, the
    ``http_json`` sources' APIs and the ``csv_drop`` sources' folders."""

    database_urls: Mapping[str, str] = field(default_factory=dict)
    apis: Mapping[str, ApiSettings] = field(default_factory=dict)
    drops: Mapping[str, DropSettings] = field(default_factory=dict)

    def with_api(self, source: str, **changes: Any) -> SourceSettings:
        """These settings with ``source``'s API settings changed."""
        from dataclasses import replace

        return replace(self, apis={**self.apis, source: replace(self.apis[source], **changes)})

    def with_drop(self, source: str, **changes: Any) -> SourceSettings:
        """These settings with ``source``'s drop settings changed."""
        from dataclasses import replace

        return replace(self, drops={**self.drops, source: replace(self.drops[source], **changes)})


@dataclass(frozen=True)
class RuntimeSettings:
    """``None`` where a setting is not given and the built-in default applies."""

    data_root: Path | None = None  # GOLDEN_RECORD_DATA
    model: Path | None = None  # GOLDEN_RECORD_MODEL
    survivorship: Path | None = None  # GOLDEN_RECORD_SURVIVORSHIP
    expectations: Path | None = None  # GOLDEN_RECORD_EXPECTATIONS
    gates: Path | None = None  # GOLDEN_RECORD_GATES
    # The council's source systems (golden_record.extract.declaration).
    sources: Path | None = None  # GOLDEN_RECORD_SOURCES
    # The council's privacy notice for subject access letters (golden_record.rights.letter).
    privacy_notice: Path | None = None  # GOLDEN_RECORD_PRIVACY_NOTICE
    crm_lock_timeout_seconds: float = 60.0  # GOLDEN_RECORD_CRM_LOCK_TIMEOUT
    extract_retries: int = 2  # GOLDEN_RECORD_EXTRACT_RETRIES
    publish_retries: int = 2  # GOLDEN_RECORD_PUBLISH_RETRIES
    retry_delay_seconds: int = 300  # GOLDEN_RECORD_RETRY_DELAY
    # DuckDB's memory for Splink; beyond it DuckDB spills to disk (0: DuckDB's own
    # default, 80% of the machine's memory).
    duckdb_memory_gb: float = 1.5  # GOLDEN_RECORD_DUCKDB_MEMORY_GB
    # DuckDB's threads for Splink (0: DuckDB's own default, one per core). Fewer where
    # one machine runs several tasks at once (an Airflow worker's slots, a test run's
    # workers), which otherwise each take every core.
    duckdb_threads: int = 0  # GOLDEN_RECORD_DUCKDB_THREADS
    # The key of the erasure suppression list, hex (golden_record.rights.suppression);
    # kept out of repr so it is never printed.
    # GOLDEN_RECORD_SUPPRESSION_KEY
    suppression_key: str | None = field(default=None, repr=False)
    # Where Splink scores the night's pairs: "duckdb" (in process) or "spark".
    backend: str = "duckdb"  # GOLDEN_RECORD_BACKEND
    spark_master: str = "local[2]"  # GOLDEN_RECORD_SPARK_MASTER
    spark_driver_memory: str = "4g"  # GOLDEN_RECORD_SPARK_DRIVER_MEMORY
    spark_shuffle_partitions: int = 8  # GOLDEN_RECORD_SPARK_SHUFFLE_PARTITIONS
    # From how many records a Spark night standardises and clusters on Spark too (fewer,
    # a quiet night's changes, are quicker in the task than Spark's jobs start).
    spark_from: int = 200_000  # GOLDEN_RECORD_SPARK_FROM
    # Any other Spark settings, "key=value;key=value" (executor memory and cores, say).
    spark_conf: str = ""  # GOLDEN_RECORD_SPARK_CONF
    # Where Splink's Spark steps checkpoint: a folder every executor and the driver reach
    # at the same path (a shared volume, or an hdfs:// or s3a:// URL). Needed for a
    # cluster; in local mode a temporary folder unless set. Each session writes in a
    # folder of its own there, removed when the process ends.
    spark_checkpoint_dir: str = ""  # GOLDEN_RECORD_SPARK_CHECKPOINT_DIR
    # Spark's own: the Python executors start (when unset, the driver's own).
    pyspark_python: str | None = None  # PYSPARK_PYTHON
    # The Airflow plugin's permissions for the simple auth manager's roles, replacing the
    # defaults role by role: "viewer=reports;user=reports,review" (golden_record.airflow.
    # permissions).
    role_permissions: str = ""  # GOLDEN_RECORD_ROLE_PERMISSIONS


_PATHS = {
    "data_root": "GOLDEN_RECORD_DATA",
    "model": "GOLDEN_RECORD_MODEL",
    "survivorship": "GOLDEN_RECORD_SURVIVORSHIP",
    "expectations": "GOLDEN_RECORD_EXPECTATIONS",
    "gates": "GOLDEN_RECORD_GATES",
    "sources": "GOLDEN_RECORD_SOURCES",
    "privacy_notice": "GOLDEN_RECORD_PRIVACY_NOTICE",
}
_NUMBERS = {
    "crm_lock_timeout_seconds": ("GOLDEN_RECORD_CRM_LOCK_TIMEOUT", float),
    "extract_retries": ("GOLDEN_RECORD_EXTRACT_RETRIES", int),
    "publish_retries": ("GOLDEN_RECORD_PUBLISH_RETRIES", int),
    "retry_delay_seconds": ("GOLDEN_RECORD_RETRY_DELAY", int),
    "duckdb_memory_gb": ("GOLDEN_RECORD_DUCKDB_MEMORY_GB", float),
    "duckdb_threads": ("GOLDEN_RECORD_DUCKDB_THREADS", int),
    "spark_shuffle_partitions": ("GOLDEN_RECORD_SPARK_SHUFFLE_PARTITIONS", int),
    "spark_from": ("GOLDEN_RECORD_SPARK_FROM", int),
}
_TEXTS = {
    "spark_master": "GOLDEN_RECORD_SPARK_MASTER",
    "spark_driver_memory": "GOLDEN_RECORD_SPARK_DRIVER_MEMORY",
    "spark_conf": "GOLDEN_RECORD_SPARK_CONF",
    "spark_checkpoint_dir": "GOLDEN_RECORD_SPARK_CHECKPOINT_DIR",
    "pyspark_python": "PYSPARK_PYTHON",
    "role_permissions": "GOLDEN_RECORD_ROLE_PERMISSIONS",
}
BACKENDS = ("duckdb", "spark")


def runtime(environ: Mapping[str, str] | None = None) -> RuntimeSettings:
    """The runtime settings from the environment (``environ`` for tests)."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for setting, name in _PATHS.items():
        given = environ.get(name, "").strip()
        if given:
            values[setting] = Path(given)
    for setting, (name, kind) in _NUMBERS.items():
        given = environ.get(name, "").strip()
        if not given:
            continue
        try:
            number = kind(given)
        except ValueError:
            raise SettingsError(
                f"environment variable {name} must be a number ≥ 0, not {given!r}"
            ) from None
        if number < 0:
            raise SettingsError(f"environment variable {name} must be ≥ 0, not {given!r}")
        values[setting] = number
    key = environ.get("GOLDEN_RECORD_SUPPRESSION_KEY", "").strip()
    if key:
        values["suppression_key"] = key
    for setting, name in _TEXTS.items():
        given = environ.get(name, "").strip()
        if given:
            values[setting] = given
    backend = environ.get("GOLDEN_RECORD_BACKEND", "").strip().lower()
    if backend:
        if backend not in BACKENDS:
            raise SettingsError(
                f"environment variable GOLDEN_RECORD_BACKEND must be one of "
                f"{', '.join(BACKENDS)}, not {backend!r}"
            )
        values["backend"] = backend
    return RuntimeSettings(**values)  # type: ignore[arg-type]


def spark_workers_use(python: str) -> None:
    """Name the Python that Spark's workers start (``PYSPARK_PYTHON``): PySpark reads it
    from the environment when its context starts and carries it in every pandas function,
    so it is the one setting this package writes rather than reads."""
    os.environ["PYSPARK_PYTHON"] = python
