"""Shared fixtures: one small generated council, its portal API, and an Airflow home.

Airflow reads its configuration when first imported, so the Airflow environment is set
here, before any test module imports it.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import pytest

# Under pytest-xdist a worker's __main__ (execnet's) has neither __spec__ nor __file__,
# which PySpark's Connect module (imported by Great Expectations) takes for a doctest run
# and answers with sys.exit(0) when grpc is missing: every gate then errors in a worker.
import __main__  # noqa: E402
from devtools import local_env

if getattr(__main__, "__spec__", None) is None and not hasattr(__main__, "__file__"):
    __main__.__file__ = "pytest-xdist-worker"

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="golden-airflow-"))
local_env.apply(local_env.airflow_env(_AIRFLOW_HOME))
os.environ.setdefault("GOLDEN_RECORD_EXTRACT_RETRIES", "0")
os.environ.setdefault("GOLDEN_RECORD_PUBLISH_RETRIES", "0")
# The tests' JVMs (Spark in local mode, a standalone master and worker) live for seconds
# to a minute: the client compiler alone and the serial collector cost a third less CPU
# on test_spark.py (52 s against 73 s, measured), which the other workers need.
# Four workers share two cores: DuckDB's thread per core in each made a floor's match
# use 12% more CPU than one thread (febrl3: 30.3 s against 26.6 s, the same F1), which
# the other workers need. The setting is tested at both (tests/test_settings.py).
os.environ.setdefault("GOLDEN_RECORD_DUCKDB_THREADS", "1")
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

SAMPLE_PEOPLE = 1500
SAMPLE_SEED = 3
RUN_DATE = date(2026, 11, 2)
PORTAL_TOKEN = "test-token"


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def sample(tmp_path_factory, worker_id):
    """The test council's four systems, generated once for the session
    (:mod:`built_once`) and never changed: tests that edit a source work on a copy."""
    import json

    from built_once import built_once

    from devtools.generate import GeneratedData, generate

    def generated(folder: Path) -> None:
        made = generate(SAMPLE_PEOPLE, SAMPLE_SEED, folder / "council")
        about = {
            "people": made.people,
            "households": made.households,
            "records": made.records,
            "not_persons": made.not_persons,
            "paths": {name: str(path) for name, path in made.paths.items()},
        }
        (folder / "generated.json").write_text(json.dumps(about))

    folder = built_once(tmp_path_factory, worker_id, "sample", generated)
    about = json.loads((folder / "generated.json").read_text())
    return GeneratedData(
        out=folder / "council",
        people=about["people"],
        households=about["households"],
        records=about["records"],
        not_persons=about["not_persons"],
        paths={name: Path(path) for name, path in about["paths"].items()},
    )


@pytest.fixture(scope="session")
def portal(sample):
    from devtools.generate.portal_api import running_portal

    with running_portal(sample.paths["portal"], PORTAL_TOKEN) as running:
        yield running


def _settings_for(sample, portal):
    from devtools.generate.sample_sources import sample_source_settings
    from golden_record.settings import ApiSettings

    api = ApiSettings(
        base_url=portal.base_url, token=PORTAL_TOKEN, page_size=250, timeout_seconds=5
    )
    return sample_source_settings(sample.out, api)


@pytest.fixture
def source_settings(sample, portal):
    return _settings_for(sample, portal)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the whole session; each test makes its own database."""
    from devtools.testing.postgres_server import PostgresServer

    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def crm(request, tmp_path):
    """An empty CRM database: the SQLite default, then a database on the PostgreSQL server."""
    import hashlib

    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.db'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(
        "crm_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    )


@pytest.fixture(scope="session")
def landed_run(tmp_path_factory, worker_id, sample, portal):
    """One run (``RUN_DATE``) taken as far as its golden records, without Airflow,
    matched by the packaged model (training is tested where it is the subject); built
    once for the session (:mod:`built_once`). Tests that change it work on a copy."""
    from built_once import built_once

    from golden_record import pipeline
    from golden_record.extract.declaration import source_systems
    from golden_record.matching import registry
    from golden_record.run import Run

    def land(root: Path) -> None:
        settings = _settings_for(sample, portal)
        run = Run.of(RUN_DATE.isoformat(), root=root)
        for source in source_systems():
            pipeline.extract(source, run, settings)
        pipeline.standardise(run)
        pipeline.match(run, registry.packaged())
        pipeline.build_golden(run)

    return built_once(tmp_path_factory, worker_id, "landed", land)


# The plugin on Airflow's API server (module-scoped: one server per module using it).
# A council published on its first night, and a copy of it per test.
import measured  # noqa: E402
from night_runner import council, published, published_on_postgresql  # noqa: E402, F401
from plugin_server import airflow_api, reported  # noqa: E402, F401


def pytest_addoption(parser):
    measured.add_option(parser)


def pytest_configure(config):
    config.pluginmanager.register(measured.LeftOut(config), "left-out")
    if config.getoption("--store-durations"):
        config.pluginmanager.register(measured.DurationRecorder(config), "store-durations")


def pytest_collection_modifyitems(items):
    """Mark every test that reaches the PostgreSQL server (directly or through a
    parametrised CRM) ``postgres``, and every test measured slow ``slow``
    (:mod:`measured`), so ``make test-fast`` can leave them out."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        crm_on_postgresql = any(isinstance(v, str) and v == "postgresql" for v in params.values())
        if "postgres" in item.fixturenames or crm_on_postgresql:
            item.add_marker(pytest.mark.postgres)
    measured.mark_slow(items)
