"""A rights request reaching the CRM at once: its last published run published again as
the golden store now says it should be seen.

Restricting, lifting and erasing do not wait for the next night: the CRM's last run's
golden files (erased residents already purged from them, restricted ones left out) go
through the same write-audit-publish as a night, under the publish lock, with the
resident's leaving or return named in the change feed as the rights event it is, and
the publish row naming the request. The run's export is written again from the CRM.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import inspect

from golden_record.golden import GoldenStore
from golden_record.golden.store import StoreError, missing_sqlite_file
from golden_record.keys import held_in
from golden_record.run import Run

if TYPE_CHECKING:
    from golden_record.publish import PublishSummary
    from golden_record.run import GoldenFiles


def last_published_run(crm_url: str) -> str | None:
    """The run the CRM shows (None: nothing published yet, or no CRM database)."""
    from golden_record.publish.contract import latest_run
    from golden_record.publish.database import crm_engine

    if missing_sqlite_file(crm_url) is not None:
        return None
    engine = crm_engine(crm_url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("crm_publish"):
                return None
            return latest_run(connection)
    finally:
        engine.dispose()


def without_restricted(
    golden: pd.DataFrame, xref: pd.DataFrame, restricted: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A night's golden records and cross-reference less the restricted residents."""
    if not restricted:
        return golden, xref
    return (
        golden[~held_in(golden["golden_id"], restricted)].reset_index(drop=True),
        xref[~held_in(xref["golden_id"], restricted)].reset_index(drop=True),
    )


def publish_as_seen(
    store: GoldenStore,
    files: GoldenFiles,
    run_key: str,
    crm_url: str,
    rights_events: dict[str, str] | None = None,
    **publishing: Any,
) -> PublishSummary:
    """Publish a run's golden files as the golden store says they should be seen:
    restricted residents left out, their leaving or return named in the feed
    (``rights_events`` adds a request's own). ``publishing``: the rest of
    :func:`golden_record.publish.publish`'s options (a rights request, a withdrawal)."""
    from golden_record.publish import publish

    golden, xref = without_restricted(
        pd.read_parquet(files.golden_records), pd.read_parquet(files.xref), store.restricted_ids()
    )
    return publish(
        golden,
        xref,
        run_key,
        crm_url,
        lineage=pd.read_parquet(files.lineage) if files.lineage.is_file() else None,
        rights_events=store.restriction_events() | (rights_events or {}),
        **publishing,
    )


def republish(
    store: GoldenStore,
    crm_url: str,
    data_root: Path,
    rights_events: dict[str, str],
    request_id: int,
) -> dict:
    """Publish the CRM's last run again as the store now says it should be seen; returns
    what was published (``{"published": False, ...}`` when the CRM has nothing yet)."""
    from golden_record.publish import export_run

    run_key = last_published_run(crm_url)
    if run_key is None:
        return {"published": False, "why": "nothing has been published to the CRM yet"}
    files = Run.of(run_key, root=data_root).golden
    if not files.golden_records.is_file():
        raise StoreError(
            f"the CRM shows run {run_key}, whose golden files are not under {data_root}: "
            "give the pipeline's data folder (--data); the CRM was not changed"
        )
    summary = publish_as_seen(
        store, files, run_key, crm_url, rights_events, rights_request=request_id
    )
    export = export_run(run_key, crm_url, data_root) if summary.outcome == "published" else None
    return {
        "published": summary.outcome == "published",
        "run_key": run_key,
        "publish_id": summary.publish_id,
        "events": dict(summary.events),
        "export": str(export) if export else None,
        "summary": {k: v for k, v in asdict(summary).items() if k in ("outcome", "crm")},
    }
