"""The ``slow`` marker from measured durations, not from a list kept by hand.

``make test-durations`` runs the whole suite with ``--store-durations`` and writes to
``tests/durations.json`` each test's set-up and call time and each fixture's longest
set-up. At collection a test is marked ``slow`` when it took ``SLOW_SECONDS`` or more,
or when it uses (directly or through another fixture) a fixture whose set-up did:
``make test-fast`` would otherwise build that fixture for whichever test came first. A
test or fixture not yet measured counts as fast until the next ``make test-durations``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DURATIONS = Path(__file__).with_name("durations.json")
SLOW_SECONDS = 2.0


def add_option(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store-durations",
        action="store_true",
        help=f"write each test's and fixture's measured time to {DURATIONS.name}",
    )


def _measured() -> dict[str, Any]:
    return json.loads(DURATIONS.read_text()) if DURATIONS.is_file() else {}


def mark_slow(items: list[pytest.Item]) -> None:
    measured = _measured()
    tests, fixtures = measured.get("tests", {}), measured.get("fixtures", {})
    slow_fixtures = {name for name, seconds in fixtures.items() if seconds >= SLOW_SECONDS}
    for item in items:
        taken = tests.get(item.nodeid, {})
        if sum(taken.values()) >= SLOW_SECONDS or slow_fixtures & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


class DurationRecorder:
    """Times every test's phases and every fixture's set-up. Under xdist each worker
    leaves its fixture times in a file of its own; the controller, which sees every
    test's report, merges them into ``durations.json`` when the session ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tests: dict[str, dict[str, float]] = defaultdict(dict)
        self.fixtures: dict[str, float] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any) -> Iterator[None]:
        started = time.perf_counter()
        yield
        taken = round(time.perf_counter() - started, 2)
        # The project's own fixtures (plugins' have no base id).
        if fixturedef.baseid:
            name = fixturedef.argname
            self.fixtures[name] = max(self.fixtures.get(name, 0.0), taken)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when in ("setup", "call"):
            self.tests[report.nodeid][report.when] = round(report.duration, 2)

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        worker = getattr(self.config, "workerinput", None)
        if worker is not None:
            part = DURATIONS.with_name(f".durations-{worker['workerid']}.json")
            part.write_text(json.dumps(self.fixtures))
            return
        fixtures = dict(self.fixtures)
        for part in DURATIONS.parent.glob(".durations-*.json"):
            for name, taken in json.loads(part.read_text()).items():
                fixtures[name] = max(fixtures.get(name, 0.0), taken)
            part.unlink()
        tests = _measured().get("tests", {}) | dict(self.tests)
        DURATIONS.write_text(
            json.dumps(
                {"tests": dict(sorted(tests.items())), "fixtures": dict(sorted(fixtures.items()))},
                indent=1,
            )
            + "\n"
        )


class LeftOut:
    """Says at the end of a run how many tests a marker expression left out (pytest's own
    count is lost under xdist, where the workers deselect): ``make test-fast`` is honest
    about what it did not run. Workers pass their count to the controller."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.left_out = 0

    @pytest.hookimpl
    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.left_out += len(items)

    @pytest.hookimpl
    def pytest_sessionfinish(self) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["deselected"] = self.left_out

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        # Every worker collects and deselects the same tests: one count is the count.
        self.left_out = getattr(node, "workeroutput", {}).get("deselected", 0)

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        left_out = self.left_out
        expression = self.config.getoption("markexpr")
        if left_out and expression:
            terminalreporter.write_line(
                f"left out {left_out} tests by -m {expression!r} (make test runs every one)"
            )
