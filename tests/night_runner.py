"""A council's nights for the fault tests: its four sources copied, edited between nights.

``Council.night(day)`` runs the nightly DAG's tasks in the DAG's order with its trigger
rules (a failed task stops what depends on it; the report always runs), calling the same
``golden_record.pipeline`` stages the tasks call, so a fault test can run several nights in a
few seconds each. ``tests/test_nightly_dag.py`` and the fault tests marked ``dag`` run
the real DAG.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from golden_record.golden import GoldenStore, default_store_url
from golden_record.jobs import NightRun, run_night
from golden_record.matching import registry
from golden_record.run import Run
from golden_record.settings import ApiSettings

TOKEN = "fault-token"
FIRST, SECOND, THIRD, FOURTH = (date(2026, 11, d) for d in (2, 3, 4, 5))


def bands_open_at_sources(folder: Path) -> Path:
    """A gates.toml whose sources gate lets any share of a source's records change and any
    column empty, so a test reaches the golden gate's breaker with a mass rewrite at
    source (which the sources gate refuses first with the bands as shipped)."""
    from golden_record import paths

    bands = (paths.EXPECTATIONS_DIR / "gates.toml").read_text()
    opened = bands.replace("max_changed_share = 0.25", "max_changed_share = 1.0").replace(
        "max_drop = 0.10", "max_drop = 1.0"
    )
    assert opened != bands
    path = folder / "gates-open-at-sources.toml"
    path.write_text(opened)
    return path


def stamp_before(day: date) -> str:
    """A change made at source the day before the night of ``day`` runs."""
    return f"{date.fromordinal(day.toordinal() - 1)} 12:00:00"


class Council:
    """One test's council: sources, portal, pipeline data, golden store and CRM, all under
    one folder (``work``), so a published council can be copied for each test."""

    def __init__(
        self,
        work: Path,
        crm_url: str | None = None,
        store_url: str | None = None,
        database_urls: dict[str, str] | None = None,
    ):
        from devtools.generate.portal_api import start_portal
        from devtools.generate.sample_sources import sample_source_settings

        self.work = work
        self.sources = work / "sources"
        self.data = work / "data"
        self.crm_url = crm_url or f"sqlite:///{work / 'crm.db'}"
        self.store_url = store_url or default_store_url(self.data)
        self.portal_file = next((self.sources / "portal").glob("*.jsonl"))
        self.portal = start_portal(self.portal_file, TOKEN)
        api = ApiSettings(
            base_url=self.portal.base_url, token=TOKEN, page_size=250, timeout_seconds=5
        )
        self.settings = sample_source_settings(self.sources, api, database_urls=database_urls)

    @classmethod
    def generated(cls, sample, work: Path, **urls) -> Council:
        shutil.copytree(sample.out, work / "sources")
        return cls(work, **urls)

    def copy(self, work: Path) -> Council:
        """The same council in another folder (SQLite store and CRM included)."""
        shutil.copytree(self.work, work, dirs_exist_ok=True)
        return Council(work)

    def close(self) -> None:
        self.portal.stop()

    @property
    def store(self) -> GoldenStore:
        return GoldenStore(self.store_url)

    # ----- one night, as the DAG runs it ---------------------------------------------------

    def run(self, day: date) -> Run:
        return Run.of(day.isoformat(), root=self.data)

    def night(self, day: date, full_refresh: bool = False) -> NightRun:
        """One night as the DAG runs it (:func:`golden_record.jobs.run_night`), matched by
        the packaged model."""
        return run_night(
            self.run(day),
            self.settings,
            self.crm_url,
            self.store_url,
            registry.packaged(),
            full_refresh=full_refresh,
        )

    # ----- the sources, edited between nights ---------------------------------------------

    def housing(self, *statements: str) -> None:
        self._sql(self.sources / "housing.db", statements)

    def revenues(self, *statements: str) -> None:
        self._sql(self.sources / "revenues.db", statements)

    @staticmethod
    def _sql(db: Path, statements) -> None:
        with sqlite3.connect(db) as connection:
            for statement in statements:
                connection.execute(statement)

    def housing_person(self, person_ref: str) -> dict:
        with sqlite3.connect(self.sources / "housing.db") as connection:
            connection.row_factory = sqlite3.Row
            row = connection.execute(
                "SELECT * FROM tenancy_person WHERE person_ref = ?", (person_ref,)
            ).fetchone()
        return dict(row)

    def waste_lines(self) -> list[str]:
        newest = sorted((self.sources / "waste" / "drop").glob("*.csv"))[-1]
        return newest.read_text(encoding="utf-8").splitlines()

    def drop_waste(self, day: date, lines: list[str] | bytes) -> Path:
        """Tonight's waste drop file (a full snapshot), dated ``day``."""
        path = self.sources / "waste" / "drop" / f"waste_contacts_{day:%Y%m%d}.csv"
        if isinstance(lines, bytes):
            path.write_bytes(lines)
        else:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def portal_customers(self) -> list[dict]:
        text = self.portal_file.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def set_portal_customers(self, customers: list[dict]) -> None:
        self.portal_file.write_text(
            "".join(json.dumps(c) + "\n" for c in customers), encoding="utf-8"
        )

    # ----- what the systems hold ----------------------------------------------------------

    def store_state(self) -> dict[str, list]:
        """Every table of the golden store, rows sorted, for before/after comparisons."""
        from tests.crm_fixtures import dump

        return dump(self.store_url)

    def golden_of(self, unique_id: str) -> str | None:
        xref = self.store.current_xref()
        found = xref.loc[xref["unique_id"] == unique_id, "golden_id"]
        return found.iloc[0] if len(found) else None

    def crm_sources(self) -> pd.DataFrame:
        from sqlalchemy import create_engine

        engine = create_engine(self.crm_url)
        try:
            return pd.read_sql("SELECT * FROM golden_customer_source", engine)
        finally:
            engine.dispose()


# ----- fixtures (registered by conftest: each module using them builds its own) ------------


@pytest.fixture(scope="session")
def published(sample, tmp_path_factory, worker_id):
    """A council after its first night (``FIRST``), published (SQLite), built once for the
    whole session (:func:`built_once`); each test works on a copy (:func:`council`)."""
    from built_once import built_once

    def first_night(work: Path) -> None:
        council = Council.generated(sample, work)
        try:
            assert council.night(FIRST).outcome == "published"
        finally:
            council.close()

    return built_once(tmp_path_factory, worker_id, "first-night", first_night)


@pytest.fixture(scope="session")
def published_on_postgresql(sample, postgres, tmp_path_factory):
    """A council after its first night with its golden store and CRM on the tests'
    PostgreSQL server, built once per worker (each worker has its own server); each test
    takes a copy (:func:`postgresql_copy`)."""
    from devtools.generate.to_postgres import copy_sqlite_to_postgres

    work = tmp_path_factory.mktemp("published-on-postgresql") / "council"
    # Parking is served from PostgreSQL, as permit systems are (and as compose serves it).
    parking = postgres.create_database("first_night_parking")
    copy_sqlite_to_postgres(sample.out / "parking.db", "parking_schema.sql", parking)
    council = Council.generated(
        sample,
        work,
        crm_url=postgres.create_database("first_night_crm"),
        store_url=postgres.create_database("first_night_store"),
        database_urls={"parking": parking},
    )
    try:
        assert council.night(FIRST).outcome == "published"
    finally:
        council.close()
    return work


def postgresql_copy(published_on_postgresql: Path, postgres, work: Path, name: str) -> Council:
    """A copy of the council published on PostgreSQL: its folder, and its store, CRM and
    parking databases copied from the published ones (``<name>_store``, ``<name>_crm``,
    ``<name>_parking``)."""
    shutil.copytree(published_on_postgresql, work)
    return Council(
        work,
        crm_url=postgres.copy_database("first_night_crm", f"{name}_crm"),
        store_url=postgres.copy_database("first_night_store", f"{name}_store"),
        database_urls={"parking": postgres.copy_database("first_night_parking", f"{name}_parking")},
    )


@pytest.fixture
def council(published, tmp_path):
    shutil.copytree(published, tmp_path / "council")
    copy = Council(tmp_path / "council")
    yield copy
    copy.close()
