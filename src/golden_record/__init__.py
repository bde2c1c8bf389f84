"""Golden customer records for UK councils: one record per resident across the council's
systems, matched with Splink, kept with persistent IDs and published to the CRM.

The public API, for a scheduler other than Airflow, a notebook or a script::

    from golden_record import GoldenStore, Run, SourceSettings, match_file, run_night

    night = run_night(Run.of("2026-11-02", root=data), settings, crm_url)   # a night
    done = match_file(records, Path("out"))                                 # a file
    GoldenStore(store_url).golden_records()                                 # the store

The ``golden-record`` command (:mod:`golden_record.cli`) and the Airflow DAGs
(:mod:`golden_record.airflow`, the ``airflow`` extra) are built on the same stages
(:mod:`golden_record.pipeline`). Names are imported when first used, so importing the
package stays cheap (a DAG file parsed every 30 seconds imports it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from golden_record.golden import GoldenStore
    from golden_record.jobs import FileMatched, NightRun, match_file, run_night
    from golden_record.run import Run
    from golden_record.settings import (
        ApiSettings,
        DropSettings,
        RuntimeSettings,
        SourceSettings,
        runtime,
    )

# The public name → the module that defines it.
_PUBLIC = {
    "run_night": "golden_record.jobs",
    "NightRun": "golden_record.jobs",
    "match_file": "golden_record.jobs",
    "FileMatched": "golden_record.jobs",
    "GoldenStore": "golden_record.golden",
    "Run": "golden_record.run",
    "SourceSettings": "golden_record.settings",
    "ApiSettings": "golden_record.settings",
    "DropSettings": "golden_record.settings",
    "RuntimeSettings": "golden_record.settings",
    "runtime": "golden_record.settings",
}

__all__ = [
    "ApiSettings",
    "DropSettings",
    "FileMatched",
    "GoldenStore",
    "NightRun",
    "Run",
    "RuntimeSettings",
    "SourceSettings",
    "__version__",
    "match_file",
    "run_night",
    "runtime",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'golden_record' has no attribute {name!r}")
