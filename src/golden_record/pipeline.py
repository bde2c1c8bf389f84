"""The nightly stages as plain functions keyed by run; the Airflow tasks call these.

Each stage reads the previous stage's files under ``runs/<run_key>/`` and writes its own
atomically, so a stage can be rerun alone and a rerun of a run yields the same files.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pandas as pd

from golden_record import nights, paths
from golden_record.atomic import write_parquet, write_text
from golden_record.extract.canonical import SOURCE_SYSTEMS
from golden_record.extract.landing import ExtractSummary, extract_source
from golden_record.settings import SourceSettings


def _stage_dir(run_key: str, stage: str, root: Path | None) -> Path:
    return paths.run_dir(run_key, root) / stage


def extract(
    source: str,
    run_key: str,
    run_date: date,
    settings: SourceSettings,
    root: Path | None = None,
    full_refresh: bool = False,
) -> dict:
    summary: ExtractSummary = extract_source(
        source, run_key, run_date, settings, root=root, full_refresh=full_refresh
    )
    return asdict(summary)


def load_canonical(run_key: str, root: Path | None = None) -> pd.DataFrame:
    missing = [s for s in SOURCE_SYSTEMS if not paths.canonical_path(run_key, s, root).is_file()]
    if missing:
        raise FileNotFoundError(
            f"run {run_key}: canonical records missing for {', '.join(missing)}; extract first"
        )
    frames = [pd.read_parquet(paths.canonical_path(run_key, s, root)) for s in SOURCE_SYSTEMS]
    return pd.concat(frames, ignore_index=True).astype("string")


def standardise(run_key: str, run_date: date, root: Path | None = None) -> dict:
    from golden_record.matching.stage import standardise_records

    canonical = load_canonical(run_key, root)
    standardised = standardise_records(canonical, as_of=run_date)
    out = _stage_dir(run_key, "standardised", root)
    write_parquet(canonical, out / "canonical.parquet")
    write_parquet(standardised, out / "standardised.parquet")
    return {
        "records": len(standardised),
        "by_source": canonical["source_system"].value_counts().to_dict(),
        "invalid_postcodes": int((~standardised["postcode_valid"]).sum()),
    }


def _store(store_url: str | None, root: Path | None):
    from golden_record.golden import GoldenStore, default_store_url

    return GoldenStore(store_url or default_store_url(root or paths.data_root()))


def match(
    run_key: str,
    root: Path | None = None,
    model_path: Path | None = None,
    store_url: str | None = None,
    run_date: date | None = None,
) -> dict:
    """Predict and cluster the run's standardised records, honouring every steward
    decision in the golden store.

    The model is pinned at the run's first match (``match/model.json``), so a rerun of
    the run uses that model whatever has been promoted since. At first: the explicit
    model, else the promoted one, else (the first night of a council with no model) one
    trained on this night's records, which is then promoted for the nights after.
    """
    from golden_record.golden.stewardship import links
    from golden_record.matching.stage import match_standardised

    standardised = pd.read_parquet(
        _stage_dir(run_key, "standardised", root) / "standardised.parquet"
    )
    out = _stage_dir(run_key, "match", root)
    model_file, source = pinned_model(run_key, standardised, root, model_path, run_date)
    decided = links(_store(store_url, root))
    output = match_standardised(
        standardised, model_path=model_file, cannot_link=decided.cannot, must_link=decided.must
    )
    write_parquet(output.result.pairs, out / "scored_pairs.parquet")
    write_parquet(output.xref, out / "xref.parquet")
    write_parquet(output.review_pairs, out / "review_pairs.parquet")
    sizes = output.xref.groupby("cluster_id").size()
    return {
        "records": len(output.xref),
        "clusters": int(sizes.size),
        "scored_pairs": len(output.result.pairs),
        "review_pairs": len(output.review_pairs),
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "model": source["model"],
        "model_trained_this_night": source["trained_this_night"],
        "steward_decisions": len(decided.must) + len(decided.cannot),
    }


def pinned_model(
    run_key: str,
    standardised: pd.DataFrame,
    root: Path | None = None,
    model_path: Path | None = None,
    run_date: date | None = None,
) -> tuple[Path, dict]:
    """The run's model file and where it came from, choosing and pinning it the first
    time the run is matched (training and promoting one if the council has none)."""
    from golden_record.matching import registry

    out = _stage_dir(run_key, "match", root)
    pinned, about = out / "model.json", out / "model_source.json"
    if pinned.is_file() and about.is_file():
        return pinned, json.loads(about.read_text())
    chosen = registry.resolve(model_path, root)
    source: dict[str, object] = {"model": None, "trained_this_night": False}
    if chosen is None:
        trained = registry.train_version(
            standardised,
            trained_on=f"run {run_key}",
            run_date=run_date or date.fromisoformat(run_key[:10]),
            root=root,
        )
        chosen = registry.promote(trained["model_file"], root)
        source |= {
            "trained_this_night": True,
            "training_records": trained["training_records"],
            "promoted": True,
        }
    source["model"] = chosen.name
    write_text(chosen.read_text(encoding="utf-8"), pinned)
    write_text(json.dumps(source, indent=2) + "\n", about)
    return pinned, source


def latest_run_with_standardised(root: Path | None = None) -> str:
    runs = paths.runs_root(root)
    keys = (
        sorted(
            p.name
            for p in runs.iterdir()
            if (p / "standardised" / "standardised.parquet").is_file()
        )
        if runs.is_dir()
        else []
    )
    if not keys:
        raise FileNotFoundError(f"no nightly run with standardised records under {runs}")
    return keys[-1]


def train_model(run_date: date, run_key: str | None = None, root: Path | None = None) -> dict:
    """Train a new model version on a nightly run's standardised records."""
    from golden_record.matching.registry import train_version

    run_key = run_key or latest_run_with_standardised(root)
    standardised = pd.read_parquet(
        _stage_dir(run_key, "standardised", root) / "standardised.parquet"
    )
    return train_version(standardised, trained_on=f"run {run_key}", run_date=run_date, root=root)


def build_golden(
    run_key: str, run_date: date, store_url: str | None = None, root: Path | None = None
) -> dict:
    """Apply the run's clusters to the golden store; write its golden records, cross-
    reference and change events under ``runs/<run_key>/golden/``."""
    from golden_record.golden.records import cross_reference, presentable

    stage = _stage_dir(run_key, "standardised", root)
    canonical = pd.read_parquet(stage / "canonical.parquet")
    standardised = pd.read_parquet(stage / "standardised.parquet")
    match_dir = _stage_dir(run_key, "match", root)
    xref = pd.read_parquet(match_dir / "xref.parquet")
    review = pd.read_parquet(match_dir / "review_pairs.parquet")
    clusters = pd.DataFrame(
        {
            "unique_id": xref["source_system"] + ":" + xref["source_record_id"],
            "cluster_id": xref["cluster_id"],
            "cluster_match_probability": xref["match_probability"],
        }
    )
    review_pairs = pd.DataFrame(
        {
            "unique_id_l": review["source_system_l"] + ":" + review["source_record_id_l"],
            "unique_id_r": review["source_system_r"] + ":" + review["source_record_id_r"],
            "match_probability": review["match_probability"],
            "match_weight": review["match_weight"],
            "reason": review["reason"],
        }
    )
    store = _store(store_url, root)
    # The night is being decided (again): until its gate passes, no later night builds
    # on it.
    nights.withdraw(run_key, root)
    previous_golden = _golden_before(store, run_key)
    summary = store.apply_run(
        run_key,
        run_date.isoformat(),
        clusters,
        presentable(canonical, standardised),
        review_pairs,
        pair_detail=pd.read_parquet(match_dir / "scored_pairs.parquet"),
        staged=True,
    )
    golden = store.golden_records().drop(columns=["status", "merged_into"])
    membership = store.current_xref().rename(
        columns={"match_probability": "cluster_match_probability"}
    )
    events = store.events_of_run(run_key)
    out = _stage_dir(run_key, "golden", root)
    write_parquet(golden, out / "golden_records.parquet")
    write_parquet(cross_reference(membership), out / "xref.parquet")
    write_parquet(events, out / "events.parquet")
    write_parquet(store.lineage(), out / "lineage.parquet")
    result = {
        "golden_records": len(golden),
        "previous_golden_records": previous_golden,
        "source_records": len(membership),
        "events": summary.events,
        "store": store.safe_url,
        "reapplied_unchanged": summary.replayed,
        # Staged: the store takes this night as its state only once the gate passes.
        "store_status": summary.status,
        "input_fingerprint": summary.input_fingerprint,
    }
    write_text(json.dumps(result, indent=2) + "\n", out / "summary.json")
    return result


def _golden_before(store, run_key: str) -> int:
    """Active golden records after the store's last accepted run before ``run_key`` (0 if
    none): a refused night is never the baseline of the change shares."""
    runs = store.runs(accepted_only=True)
    earlier = runs[runs["run_key"] < run_key]
    for summary in reversed(earlier["summary"].tolist()):
        if summary:
            return int(json.loads(summary)["golden_records"])
    return 0


def quality_gate(
    gate: str,
    run_key: str,
    run_date: date,
    root: Path | None = None,
    store_url: str | None = None,
) -> dict:
    """Run a quality gate on the run's files; raise ``GateFailed`` when a critical check
    failed (its outcome and Data Docs are written first, for the report).

    Write-audit-publish: the golden gate passing makes the night's staged store changes
    the store's state and the night the baseline of later nights; any gate refusing it
    takes the staged changes back, so the store, its review queue and later nights'
    baselines are exactly as before the night.
    """
    from golden_record.quality import GateFailed, load_bands, run_gate
    from golden_record.quality.batches import BATCHES_OF_GATE

    read = BATCHES_OF_GATE[gate]
    store = _store(store_url, root)
    if gate == "golden" and store.run_status(run_key) is None:
        raise NightNotStaged(
            f"run {run_key}: the golden store does not hold this night's changes (taken back "
            "when a gate refused the night); rebuild its golden records (clear build_golden "
            "and the tasks after it) before running the golden gate again"
        )
    result = run_gate(
        gate,
        run_key,
        run_date,
        lambda: read(run_key, run_date, load_bands(), root),
        root,
        inputs=_published_files(run_key, root) if gate == "golden" else (),
        accepted=_steward_acceptance(store, run_key, root) if gate == "golden" else None,
    )
    if not result.passed:
        nights.withdraw(run_key, root)
        store.take_back_pending(run_key)
        raise GateFailed(result)
    if gate == "golden":
        store.accept_run(run_key)
        accepted_by = (result.accepted or {}).get("accepted_by") if result.refused else None
        nights.mark_accepted(run_key, root, by=f"steward {accepted_by}" if accepted_by else gate)
    return {
        "gate": gate,
        "passed": True,
        "checks": len(result.checks),
        "warnings": len(result.warnings),
        "data_docs": result.data_docs,
        "accepted_by_steward": bool(result.refused),
    }


def accept_refused_night(
    run_key: str, by: str, reason: str, store_url: str | None = None, root: Path | None = None
) -> dict:
    """Record a steward's acceptance of a night its golden gate refused only for the size
    of its changes; the night's golden records must then be rebuilt, and its gate passes
    for exactly that input. Raises ``StoreError`` saying why a night cannot be accepted."""
    from golden_record.golden import StoreError
    from golden_record.golden.acceptance import accept_night
    from golden_record.quality import read_gate_result
    from golden_record.quality.batches import CHANGES_BATCH

    result = read_gate_result(run_key, "golden", root)
    if result is None:
        raise StoreError(f"run {run_key}: its golden gate has not run; nothing to accept")
    if result.passed:
        raise StoreError(f"run {run_key}: its golden gate passed; nothing to accept")
    others = [c for c in result.refused if c.batch != CHANGES_BATCH]
    if result.error or others:
        what = result.error or "; ".join(f"{c.batch}: {c.expectation}" for c in others[:3])
        raise StoreError(
            f"run {run_key} failed checks a steward cannot accept ({what}); only the size of "
            f"its changes ({CHANGES_BATCH}) can be accepted. Fix the data and rerun the night"
        )
    summary = json.loads((_stage_dir(run_key, "golden", root) / "summary.json").read_text())
    row = accept_night(_store(store_url, root), run_key, summary["input_fingerprint"], by, reason)
    return {**row, "refused": [c.column for c in result.refused]}


class NightNotStaged(RuntimeError):
    """The golden gate was asked to pass a night the store no longer holds."""


def _steward_acceptance(store, run_key: str, root: Path | None) -> dict | None:
    """A steward's acceptance of this night's changes, for exactly the input now staged."""
    from golden_record.golden.acceptance import acceptance_of
    from golden_record.quality.batches import CHANGES_BATCH

    summary_file = _stage_dir(run_key, "golden", root) / "summary.json"
    if not summary_file.is_file():
        return None
    fingerprint = json.loads(summary_file.read_text(encoding="utf-8")).get("input_fingerprint")
    found = acceptance_of(store, run_key, fingerprint) if fingerprint else None
    return {**found, "batches": [CHANGES_BATCH]} if found else None


# What publish reads: the golden gate fingerprints these, and publish checks they are the
# files that passed.
PUBLISHED_FILES = ("golden_records.parquet", "xref.parquet", "lineage.parquet")


def _published_files(run_key: str, root: Path | None) -> list[Path]:
    out = _stage_dir(run_key, "golden", root)
    return [out / name for name in PUBLISHED_FILES]


class PublishRefused(RuntimeError):
    """The run's golden records did not pass (or were changed after) the golden gate."""


def _check_gate_passed(run_key: str, root: Path | None) -> None:
    from golden_record.digest import file_sha256
    from golden_record.quality.gates import read_gate_result

    result = read_gate_result(run_key, "golden", root)
    if result is None:
        raise PublishRefused(f"run {run_key}: the golden gate has not run; nothing published")
    if not result.passed:
        raise PublishRefused(f"run {run_key}: {result.headline()}; nothing published")
    run = paths.run_dir(run_key, root)
    for path in _published_files(run_key, root):
        name = str(path.relative_to(run))
        if result.inputs.get(name) != file_sha256(path):
            raise PublishRefused(
                f"run {run_key}: {name} is not the file the golden gate passed (rebuilt "
                "since?); run the gate again. Nothing published"
            )


def publish(
    run_key: str, crm_url: str, root: Path | None = None, export_root: Path | None = None
) -> dict:
    """Publish the run's gated golden records to the CRM, then export them as files."""
    from golden_record.publish import export_run
    from golden_record.publish import publish as publish_to_crm

    _check_gate_passed(run_key, root)
    out = _stage_dir(run_key, "golden", root)
    summary = publish_to_crm(
        pd.read_parquet(out / "golden_records.parquet"),
        pd.read_parquet(out / "xref.parquet"),
        run_key,
        crm_url,
        lineage=pd.read_parquet(out / "lineage.parquet"),
    )
    result = asdict(summary)
    if summary.outcome != "superseded":
        result["export"] = str(export_run(run_key, crm_url, export_root or root))
    return result


def report(
    run_key: str,
    stage_results: dict,
    root: Path | None = None,
    run_id: str | None = None,
    store_url: str | None = None,
) -> dict:
    """Write the run's report (``report.html`` for people, ``report.json`` for machines
    and later runs' trends); ``stage_results`` holds None for stages that did not finish.
    Returns the paths and whether the run was stopped, and why."""
    from golden_record.reporting import gather, write_report

    queue = None
    if stage_results.get("golden"):
        from golden_record.golden.stewardship import queue as review_queue

        queue = len(review_queue(_store(store_url, root)))
    facts = gather(run_key, stage_results, root, run_id=run_id, review_queue=queue)
    return {**write_report(facts, root), "outcome": facts.outcome, "stopped": facts.stopped_because}
