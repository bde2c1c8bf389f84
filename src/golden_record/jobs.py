"""Whole jobs made of the pipeline's stages: a night (:func:`run_night`) and a file of
records matched (:func:`match_file`).

The nightly DAG runs the stages of :mod:`golden_record.pipeline` as separate tasks (each
retried and logged on its own); :func:`run_night` runs the same stages in the same order
in one process, as a laptop, a test or a scheduler other than Airflow would: the report
is written whatever happened, and a failing stage stops the night with nothing
published. ``golden-record match`` is :func:`match_file`: the night's stages on a run
whose records come from a file, its golden IDs kept in a golden store.

Both keep their models in one place, the data root's model registry
(:mod:`golden_record.matching.registry`: ``models/`` and its ``current`` pointer).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from golden_record import nights, pipeline
from golden_record.atomic import write_parquet, write_text
from golden_record.extract.canonical import unique_ids
from golden_record.extract.declaration import source_systems
from golden_record.extract.landing import meta_path
from golden_record.keys import held_in
from golden_record.memory import give_back
from golden_record.run import Run

if TYPE_CHECKING:
    from golden_record.golden import GoldenStore
    from golden_record.matching.inference import Thresholds
    from golden_record.results import GoldenBuilt, Matched
    from golden_record.settings import SourceSettings


@dataclass
class NightRun:
    """What a night did: ``published`` or ``stopped`` (and why), each task's error, and
    the stages' results as the report read them."""

    run_key: str
    outcome: str
    failed: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    stopped_because: list[str] = field(default_factory=list)
    report_html: str = ""


def run_night(
    run: Run,
    settings: SourceSettings,
    crm_url: str,
    store_url: str | None = None,
    model_path: Path | None = None,
    full_refresh: bool = False,
) -> NightRun:
    """Extract every source, gate, standardise, match, build golden records, gate and
    publish ``run``, then write its report; a task that fails stops the night (the
    sources are all extracted first, as the DAG extracts them side by side)."""
    started_at = datetime.now(UTC)
    night = NightRun(run_key=run.key, outcome="stopped")
    results: dict[str, Any] = {"extract": {}}

    for source in source_systems():
        try:
            results["extract"][source] = asdict(
                pipeline.extract(
                    source, run, settings, full_refresh=full_refresh, store_url=store_url
                )
            )
        except Exception as exc:  # noqa: BLE001
            night.failed[f"extract_{source}"] = f"{type(exc).__name__}: {exc}"
    stages: list[tuple[str, Callable[[], Any]]] = [
        ("gate_sources", lambda: pipeline.quality_gate("sources", run, store_url)),
        (
            "standardise",
            lambda: pipeline.standardise(run, full_refresh=full_refresh, store_url=store_url),
        ),
        ("match", lambda: pipeline.match(run, model_path, store_url, full_refresh=full_refresh)),
        ("golden", lambda: pipeline.build_golden(run, store_url)),
        ("gate_golden", lambda: pipeline.quality_gate("golden", run, store_url)),
        ("publish", lambda: pipeline.publish(run, crm_url, store_url=store_url)),
        ("retain", lambda: pipeline.retain(run)),
    ]
    if not night.failed:
        _in_order(stages, results, night)
    return _reported(night, run, results, store_url, started_at)


def _in_order(stages: list[tuple[str, Callable[[], Any]]], results: dict, night: NightRun) -> None:
    """Each stage in turn, its result kept for the report (what the DAG's XCom carries
    from a task to the report task); the first that fails stops the rest."""
    for task, call in stages:
        try:
            results[task] = call().to_dict()
        except Exception as exc:  # noqa: BLE001 - a night records any task's failure
            night.failed[task] = f"{type(exc).__name__}: {exc}"
            return


def _reported(
    night: NightRun, run: Run, results: dict, store_url: str | None, started_at: datetime
) -> NightRun:
    """The night's report written, whatever happened, and what it says kept on ``night``."""
    written = pipeline.report(run, results, store_url=store_url, started_at=started_at)
    night.results = results
    night.outcome = written.outcome
    night.stopped_because = written.stopped
    night.report_html = written.report_html
    return night


class ApplyRefused(RuntimeError):
    """Decisions cannot be applied to this night now; the message says why and what to
    do instead."""


def check_applicable(run: Run) -> None:
    """Raise :class:`ApplyRefused` unless the stewards' decisions may be applied to ``run``
    now: it is accepted and no later night has run (that night applies them)."""
    if not nights.is_accepted(run):
        raise ApplyRefused(f"night {run.key} was not accepted by its gates: nothing to apply to")
    later = sorted(p.name for p in run.runs_dir.iterdir() if p.is_dir() and p.name > run.key)
    if later:
        raise ApplyRefused(
            f"night {later[-1]} has run since {run.key}: the decisions take effect with it "
            "(or apply them to that night once its gates accept it)"
        )


def apply_decisions(
    run: Run,
    crm_url: str,
    store_url: str | None = None,
    model_path: Path | None = None,
) -> NightRun:
    """The stewards' decisions made since ``run`` (the latest accepted night) applied now
    rather than by the next night: the night matched again from its own standardised
    records with every decision in force, its golden records built, gated and published,
    so a merge reaches the store and the CRM as ``merged`` with the surviving ID and a
    split as ``split``, through the same write-audit-publish as any night; its report
    written again (the one it replaces kept beside it). Nothing is extracted.

    Refused, changing nothing, when the night is not the latest accepted one or a later
    night has been run (that night applies them)."""
    check_applicable(run)
    started_at = datetime.now(UTC)
    night = NightRun(run_key=run.key, outcome="stopped")
    # What the night's own extracts and source gate said: read from its files, not rerun.
    results: dict[str, Any] = {
        "extract": {
            source: json.loads(meta_path(run.raw(source)).read_text(encoding="utf-8"))
            for source in source_systems()
            if meta_path(run.raw(source)).is_file()
        },
        "gate_sources": json.loads(
            (run.quality("sources") / "result.json").read_text(encoding="utf-8")
        ),
        "standardise": json.loads(run.standardised.about.read_text(encoding="utf-8")),
    }
    stages: list[tuple[str, Callable[[], Any]]] = [
        ("match", lambda: pipeline.match(run, model_path, store_url)),
        ("golden", lambda: pipeline.build_golden(run, store_url)),
        ("gate_golden", lambda: pipeline.quality_gate("golden", run, store_url)),
        ("publish", lambda: pipeline.publish(run, crm_url, store_url=store_url)),
    ]
    _in_order(stages, results, night)
    return _reported(night, run, results, store_url, started_at)


@dataclass(frozen=True)
class FileMatched:
    """A file matched: the stages' results, where the model came from, and what was
    written to the output folder."""

    matched: Matched
    built: GoldenBuilt
    model_source: str
    records: int
    golden_records: int
    review_pairs: int
    output_dir: Path


def run_date_of(run_key: str, today: date) -> date:
    """A run keyed by a date is that date's run (its month decides the monthly full
    re-match, its date standardises ages), as a night is; any other key is today's."""
    try:
        return date.fromisoformat(run_key[:10])
    except ValueError:
        return today


def match_file(
    records: pd.DataFrame,
    output_dir: Path,
    *,
    run_key: str | None = None,
    store_url: str | None = None,
    model: Path | None = None,
    retrain: bool = False,
    thresholds: Thresholds | None = None,
    db_api: Any = None,
    full_refresh: bool = False,
    source_name: str = "the input",
    step: Callable[[str], AbstractContextManager[Any]] = lambda _: nullcontext(),
) -> FileMatched:
    """Standardise, match and keep golden IDs for canonical ``records`` as a run under
    ``output_dir/runs/RUN_KEY`` (today's date by default), then write the results beside
    it: ``xref.parquet`` (with golden IDs), ``golden_records.parquet``, the review pairs
    and queue, the settled pairs, the scored pairs and, unless ``model`` was given,
    ``model.json`` and its metadata (the registry's model the run used).

    The model: ``model`` if given; else the one promoted in ``output_dir/models``; else
    (the first run, or ``retrain``) one trained on these records, checked against the
    packaged model and promoted there for the runs after. Raises ``ValueError`` for a
    run key ahead of today, ``CanonicalContractError`` for records that break the
    canonical contract, ``ModelError``/``StoreError``/``TrainingError`` as the stages do.
    ``step(what)``: a context around each long step (the command line shows progress).
    """
    from golden_record.golden import GoldenStore, default_store_url
    from golden_record.matching.inference import MatchOptions, Thresholds
    from golden_record.matching.stage import review_with_source_ids, xref_with_source_ids
    from golden_record.matching.training import metadata_path
    from golden_record.run import check_not_ahead

    if model is not None and retrain:
        raise ValueError("give a model or ask to retrain, not both")
    today = date.today()
    key = run_key or today.isoformat()
    run_date = run_date_of(key, today)
    check_not_ahead(run_date)
    run = Run.of(key, run_date, root=output_dir)
    store_url = store_url or default_store_url(output_dir)
    with step(f"reading and standardising {source_name}"):
        standardised = pipeline.standardise_canonical(run, records, store_url=store_url)
    # The input is in the run's files now: not held through the scoring, the peak.
    del records
    give_back()
    store = GoldenStore(store_url)
    with step("choosing the model"):
        model_path, model_source = _model_for_file(run, model, retrain, store, source_name)
    # A command-line run chooses its model each time it is run: unpin the last one.
    shutil.rmtree(run.match.dir, ignore_errors=True)
    options = MatchOptions(thresholds=thresholds or Thresholds(), db_api=db_api)
    # The store takes a command-line run at once: like a night whose gate passed, it is
    # what the next run builds on.
    nights.withdraw(run)
    with step(f"scoring and clustering {standardised.records:,} records"):
        matched = pipeline.match(
            run, model_path, store_url=store_url, options=options, full_refresh=full_refresh
        )
    # Every stage in this one process, as dag.test() runs a night: what the match freed
    # goes back before the store's step (Arrow's pool keeps it otherwise, and the peak
    # is the two stages' sum, not the larger).
    give_back()
    with step("keeping golden IDs in the store"):
        built = pipeline.build_golden(run, store_url=store_url, staged=False)
    nights.mark_accepted(run, by="golden-record match")

    xref = xref_with_source_ids(pd.read_parquet(run.match.xref))
    golden_of = store.current_xref().set_index("unique_id")["golden_id"]
    xref["golden_id"] = golden_of.reindex(unique_ids(xref)).to_numpy()
    review_people = review_with_source_ids(pd.read_parquet(run.match.review_pairs))
    golden = pd.read_parquet(run.golden.golden_records)
    golden = golden[held_in(golden["golden_id"], xref["golden_id"].dropna())]
    write_parquet(xref, output_dir / "xref.parquet")
    write_parquet(review_people, output_dir / "review_pairs.parquet")
    shutil.copyfile(run.match.review_queue, output_dir / "review_queue.parquet")
    write_parquet(
        review_with_source_ids(pd.read_parquet(run.match.settled_pairs)),
        output_dir / "settled_pairs.parquet",
    )
    shutil.copyfile(run.match.scored_pairs, output_dir / "scored_pairs.parquet")
    write_parquet(golden.reset_index(drop=True), output_dir / "golden_records.parquet")
    if model is None:
        # The registry's model and its metadata beside the results (a given model is the
        # caller's own file already).
        shutil.copyfile(model_path, output_dir / "model.json")
        meta = metadata_path(model_path)
        if meta.is_file():
            shutil.copyfile(meta, metadata_path(output_dir / "model.json"))
    return FileMatched(
        matched=matched,
        built=built,
        model_source=model_source,
        records=len(xref),
        golden_records=int(xref["golden_id"].nunique()),
        review_pairs=len(review_people),
        output_dir=output_dir,
    )


def _model_for_file(
    run: Run,
    model: Path | None,
    retrain: bool,
    store: GoldenStore,
    source_name: str,
) -> tuple[Path, str]:
    """The model to match with and where it came from: given, promoted in the output
    folder's registry, or trained now on the run's standardised records (and promoted
    there). The records are read only to train: held through the match and the store
    they were a gigabyte of a million-record run's peak."""
    from golden_record.matching import registry
    from golden_record.matching.training import metadata_path

    if model is not None:
        return model, f"model {model}"
    models = registry.models_dir(run.root)
    if not retrain:
        current = (
            registry.resolve(None, run.root)
            or _moved_from_store(store, run)
            or _last_run_s_model(store, run)
        )
        if current is not None:
            meta_file = metadata_path(current)
            meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
            return current, (
                f"the promoted model {current.name} in {models} "
                f"(trained {meta.get('trained_at', 'at an unknown time')})"
            )
    trained = registry.train_version(
        pd.read_parquet(run.standardised.records),
        trained_on=source_name,
        run_date=run.date,
        root=run.root,
    )
    promoted = registry.promote(trained["model_file"], run.root)
    if trained.get("chosen") == "packaged":
        return promoted, f"the packaged model, promoted in {models}: {trained['why']}"
    return promoted, (
        f"a model trained on these {trained['training_records']:,} records "
        f"({', '.join(trained['expectation_maximisation_passes'])}), promoted in {models} "
        f"for the runs after; checked against the packaged model: {trained['why']}"
    )


def _last_run_s_model(store: GoldenStore, run: Run) -> Path | None:
    """The model the store's last accepted run was matched with, when that run wrote to
    another folder: copied into this output folder's registry (with its training
    metadata) and promoted there, so a run into a new folder keeps the store's model, and
    builds on its scoring, instead of training a new one."""
    from golden_record.matching import registry
    from golden_record.matching.training import metadata_path

    def pinned(night: Run) -> bool:
        return night.match.model.is_file() and night.match.model_source.is_file()

    elsewhere = pipeline.runs_in_store(store.url, run)
    last = nights.last_accepted_before(run, having=pinned, elsewhere=elsewhere)
    if last is None:
        return None
    name = str(json.loads(last.match.model_source.read_text(encoding="utf-8"))["model"])
    copied = registry.models_dir(run.root) / name
    write_text(last.match.model.read_text(encoding="utf-8"), copied)
    meta = metadata_path(registry.models_dir(last.root) / name)
    if meta.is_file():
        write_text(meta.read_text(encoding="utf-8"), metadata_path(copied))
    return registry.promote(name, run.root)


def _moved_from_store(store: GoldenStore, run: Run) -> Path | None:
    """A model an earlier version kept inside the golden store, moved into the output
    folder's registry and promoted there (once), so its golden IDs keep their model."""
    from golden_record.golden.kept_model import kept_model
    from golden_record.matching import registry
    from golden_record.matching.training import metadata_path

    kept = kept_model(store)
    if kept is None:
        return None
    stored, meta = kept
    name = f"kept_with_store_{str(meta.get('trained_at', 'earlier')).replace(':', '')}.json"
    path = registry.models_dir(run.root) / name
    write_text(json.dumps(stored, indent=2) + "\n", path)
    write_text(json.dumps(meta | {"model_file": name}, indent=2) + "\n", metadata_path(path))
    return registry.promote(name, run.root)
