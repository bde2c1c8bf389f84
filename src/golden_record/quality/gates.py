"""Run one gate: validate its batches with GX, build its Data Docs, record the outcome.

Each gate works in a copy of the committed GX project under
``runs/<run>/quality/<gate>/`` (suites as they were that night, validation results, Data
Docs), built in a temporary folder and swapped into place, so a rerun replaces the
gate's files whole and the committed project is never written to. The outcome,
``result.json`` beside it, is what the run report and the DAG read.

Validation results keep counts and percentages, never the unexpected values themselves:
Data Docs are read by people who need not see residents' details.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from golden_record.atomic import replace_folder, write_text
from golden_record.digest import file_sha256
from golden_record.quality.offline_docs import write_offline
from golden_record.quality.suites import (
    QualityConfigError,
    check_columns,
    gx_project_dir,
    read_suite,
)
from golden_record.run import Run

# Counts only: GX's default keeps up to 20 unexpected values per expectation. BASIC, not
# SUMMARY: SUMMARY also lists the unexpected rows' index and a query for them, which with
# no values kept were empty, yet cost GX a filtered copy of the batch per expectation
# (a third of the golden gate's validation at a million records); the counts and
# percentages reported are the same.
RESULT_FORMAT = {
    "result_format": "BASIC",
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}
DATA_DOCS_INDEX = Path("gx/uncommitted/data_docs/local_site/index.html")


class GateFailed(RuntimeError):
    """A critical expectation failed (or the gate could not run): nothing may publish."""

    def __init__(self, result: GateResult):
        self.result = result
        super().__init__(result.headline())


@dataclass
class Batch:
    """One thing a gate validates: a frame, the suite for it, and the run's parameters."""

    name: str  # unique within the gate, e.g. "revenues raw extract"
    suite: str
    frame: pd.DataFrame
    source: str | None = None  # the source system, when the batch is one source's
    parameters: dict = field(default_factory=dict)


@dataclass
class Check:
    batch: str
    source: str | None
    suite: str
    expectation: str
    column: str | None
    dimension: str
    severity: str
    success: bool
    why: str
    observed: str | None  # an observed value or the share of unexpected rows
    expected: str | None = None  # what the expectation asked for, in the run's values


@dataclass
class GateResult:
    gate: str
    run_key: str
    checks: list[Check]
    data_docs: str | None  # relative to the run's folder
    error: str | None = None  # the gate could not run (broken suite or bands)
    # SHA-256 of each file the gate read (relative to the run's folder), so that a later
    # step can prove it is using exactly the files that passed.
    inputs: dict[str, str] = field(default_factory=dict)
    # A steward's acceptance of failures in the batches it covers (who, when, why).
    accepted: dict | None = None

    @property
    def refused(self) -> list[Check]:
        """Critical failures, whether or not a steward accepted them."""
        return [c for c in self.checks if not c.success and c.severity == "critical"]

    @property
    def critical_failures(self) -> list[Check]:
        covered = set((self.accepted or {}).get("batches", ()))
        return [c for c in self.refused if c.batch not in covered]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.success and c.severity != "critical"]

    @property
    def passed(self) -> bool:
        return self.error is None and not self.critical_failures

    def headline(self) -> str:
        if self.error:
            return f"gate {self.gate} could not run: {self.error}"
        failed = self.critical_failures
        if not failed:
            passed = (
                f"gate {self.gate} passed: {len(self.checks)} checks, {len(self.warnings)} warnings"
            )
            if self.refused and self.accepted:
                passed += (
                    f"; {len(self.refused)} critical failures accepted by "
                    f"{self.accepted['accepted_by']} ({self.accepted['reason']})"
                )
            return passed
        shown = "; ".join(_described(c) for c in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        return f"gate {self.gate} failed {len(failed)} critical checks: {shown}{more}"

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _described(check: Check) -> str:
    said = f"{check.batch}: {check.expectation}" + (f" on {check.column}" if check.column else "")
    found = []
    if check.observed is not None:
        found.append(f"observed {check.observed}")
    if check.expected:
        found.append(f"expected {check.expected}")
    # The suite's own words for what the check guards, so the message says what to look at.
    why = f": {check.why}" if check.why else ""
    return said + (f" ({', '.join(found)})" if found else "") + why


def read_gate_result(run: Run, gate: str) -> GateResult | None:
    path = run.quality(gate) / "result.json"
    if not path.is_file():
        return None
    body = json.loads(path.read_text(encoding="utf-8"))
    body.pop("passed", None)
    body["checks"] = [Check(**c) for c in body["checks"]]
    return GateResult(**body)


def _shown(value: object, column: str | None) -> str:
    if isinstance(value, float) and column and column.endswith("_share"):
        return f"{value:.2%}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _observed(result: dict, batch: Batch, column: str | None) -> str | None:
    if "observed_value" in result and result["observed_value"] is not None:
        return _shown(result["observed_value"], column)
    if column and len(batch.frame) == 1 and column in batch.frame.columns:
        # A one-row batch (the run's change shares): the value says more than "100%
        # unexpected".
        return _shown(batch.frame[column].iloc[0], column)
    if "unexpected_percent" in result and result["unexpected_percent"] is not None:
        return f"{result['unexpected_percent']:.2f}% unexpected"
    return None


def _expected(kwargs: dict, parameters: dict, column: str | None) -> str | None:
    """The bounds an expectation asked for, with the run's parameters filled in."""

    def value(key: str) -> object:
        given = kwargs.get(key)
        if isinstance(given, dict) and "$PARAMETER" in given:
            given = parameters.get(given["$PARAMETER"])
        return None if given is None else _shown(given, column)

    low, high = value("min_value"), value("max_value")
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if high is not None:
        return f"at most {high}"
    if low is not None:
        return f"at least {low}"
    if isinstance(kwargs.get("value_set"), list):
        return "one of " + ", ".join(map(str, kwargs["value_set"][:10]))
    return None


def _checks(batch: Batch, suite: dict, validation: Any) -> list[Check]:
    by_id = {e.get("id"): e for e in suite["expectations"]}
    checks = []
    for outcome in validation.results:
        config = outcome.expectation_config
        declared = by_id.get(config.id, {})
        meta = declared.get("meta") or config.meta or {}
        error = (outcome.exception_info or {}).get("exception_message")
        checks.append(
            Check(
                batch=batch.name,
                source=batch.source,
                suite=batch.suite,
                expectation=config.type,
                column=config.kwargs.get("column"),
                dimension=meta.get("dimension", "unclassified"),
                severity=str(getattr(config.severity, "value", config.severity)),
                success=bool(outcome.success),
                why=meta.get("why", ""),
                observed=(
                    _observed(outcome.result or {}, batch, config.kwargs.get("column"))
                    if not error
                    else f"error: {error}"
                ),
                expected=_expected(
                    dict(config.kwargs), batch.parameters, config.kwargs.get("column")
                ),
            )
        )
    return checks


def _project_config(project: Path) -> dict:
    """The copied project's configuration with its folders made absolute, for a context
    kept in memory: its suites, results and Data Docs are files as in file mode, but
    adding the night's data frames no longer rewrites great_expectations.yml (twice per
    batch, a sixth of each gate's time)."""
    from ruamel.yaml import YAML

    # Absolute: a context in memory has no root folder to resolve relative ones against
    # (a run's folder is relative when its data root was given so).
    project = project.resolve()
    config = YAML(typ="safe").load((project / "great_expectations.yml").read_text("utf-8"))
    config.pop("config_variables_file_path", None)
    config.pop("fluent_datasources", None)
    config["plugins_directory"] = str(project / config.get("plugins_directory", "plugins/"))
    stores = [*config["stores"].values(), *config.get("data_docs_sites", {}).values()]
    for store in stores:
        backend = store.get("store_backend", {})
        if "base_directory" in backend:
            backend["base_directory"] = str(project / backend["base_directory"])
    return dict(config)


def _validate(
    workdir: Path, gate: str, run: Run, batches: list[Batch], suites: dict[str, dict]
) -> list[Check]:
    try:
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier
    except ModuleNotFoundError as exc:
        # The core installs without GX (matching a file needs no gate); a night cannot.
        raise ModuleNotFoundError(
            f"the {gate} quality gate needs Great Expectations, which is not installed: "
            "install golden-record[quality] (or [airflow])"
        ) from exc

    from great_expectations.data_context.data_context.context_factory import set_context
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints each batch under a gigabyte by hashing every value, only to note the
    # digest among the result's batch markers, which nothing here reads: at a million
    # records that was 1.4 s of the sources gate. Off (GX reads the limit at each batch).
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral", project_config=_project_config(workdir / "gx"))
    try:
        source = context.data_sources.add_pandas(f"{gate}_run")
        run_id = RunIdentifier(
            run_name=f"{run.key} {gate}",
            run_time=datetime.combine(run.date, time(), tzinfo=timezone.utc),  # noqa: UP017
        )
        checks = []
        for batch in batches:
            asset = source.add_dataframe_asset(batch.name)
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=batch.name,
                    data=asset.add_batch_definition_whole_dataframe("whole"),
                    suite=context.suites.get(batch.suite),
                )
            )
            validation = definition.run(
                batch_parameters={"dataframe": batch.frame},
                expectation_parameters=batch.parameters,
                result_format=RESULT_FORMAT,
                run_id=run_id,
            )
            checks += _checks(batch, suites[batch.suite], validation)
        context.build_data_docs()
    finally:
        # GX keeps the context it made as the process's current one, and with it every
        # batch validated: where one process runs the whole night (``dag.test()``), the
        # sources gate's frames (400 MB at a million records) were still held through
        # the match and the golden records, the night's peak. Let go.
        set_context(None)
    # Readable offline from disk too (GX's pages load their styles and charts from CDNs).
    write_offline(workdir / DATA_DOCS_INDEX.parent, run.root)
    return checks


def run_gate(
    gate: str,
    run: Run,
    make_batches: Callable[[], list[Batch]],
    inputs: Sequence[Path] = (),
    accepted: dict | None = None,
) -> GateResult:
    """Validate the batches ``make_batches`` reads; write the gate's folder; return the
    outcome. Bad data or a broken suite or band does not raise: the outcome says so and
    ``passed`` is False. ``accepted``: a steward's acceptance of failures in the batches
    it names."""
    final = run.quality(gate)
    building = final.with_name(f".{gate}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    checks: list[Check] = []
    error = None
    digests = {
        str(path.relative_to(run.dir)): file_sha256(path) for path in inputs if path.is_file()
    }
    try:
        batches = make_batches()
        suites = {b.suite: read_suite(b.suite) for b in batches}
        for batch in batches:
            check_columns(suites[batch.suite], list(batch.frame.columns), batch.name)
        # The project as committed, with only this gate's suites: its Data Docs show
        # the suites it validated against (rendering every suite cost each gate a second).
        used = {f"{name}.json" for name in suites}
        shutil.copytree(
            gx_project_dir(),
            building / "gx",
            ignore=lambda folder, names: [
                n
                for n in names
                if n in ("uncommitted", "validation_definitions", "checkpoints")
                or (Path(folder).name == "expectations" and n.endswith(".json") and n not in used)
            ],
        )
        # Suites a declaration implies (a source with no raw suite file of its own).
        for name, suite in suites.items():
            written = building / "gx" / "expectations" / f"{name}.json"
            if not written.is_file():
                written.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")
        checks = _validate(building, gate, run, batches, suites)
    except QualityConfigError as exc:
        error = str(exc)
    docs = building / DATA_DOCS_INDEX
    result = GateResult(
        gate=gate,
        run_key=run.key,
        checks=checks,
        data_docs=str(Path("quality") / gate / DATA_DOCS_INDEX) if docs.is_file() else None,
        error=error,
        inputs=digests,
        accepted=accepted,
    )
    write_text(json.dumps(result.to_dict(), indent=2) + "\n", building / "result.json")
    replace_folder(building, final)
    return result
