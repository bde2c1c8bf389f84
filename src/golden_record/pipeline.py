"""The nightly stages as plain functions of a :class:`~golden_record.run.Run`; the
Airflow tasks and ``golden-record match`` call these.

Each stage reads the previous stage's files from the run's layout and writes its own
atomically, so a stage can be rerun alone and a rerun of a run yields the same files. A
stage returns a small frozen value (:mod:`golden_record.results`). Records carry one key,
``unique_id``, from standardising to the golden store; frames are joined by it, never by
row position.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from golden_record import nights
from golden_record.atomic import write_parquets, write_text
from golden_record.extract.canonical import unique_ids
from golden_record.extract.declaration import source_systems
from golden_record.extract.landing import ExtractSummary, extract_source
from golden_record.memory import give_back
from golden_record.results import (
    GatePassed,
    GoldenBuilt,
    Matched,
    Published,
    ReportWritten,
    Standardised,
)
from golden_record.retention import Retained
from golden_record.run import Run
from golden_record.settings import SourceSettings

if TYPE_CHECKING:
    from golden_record.golden import GoldenStore
    from golden_record.matching.incremental import EarlierScoring
    from golden_record.matching.inference import MatchOptions
    from golden_record.standardise.incremental import EarlierStandardised


def extract(
    source: str,
    run: Run,
    settings: SourceSettings,
    full_refresh: bool = False,
    store_url: str | None = None,
) -> ExtractSummary:
    """Land one source for the run, leaving out erased residents' records (the golden
    store's suppression list)."""
    from golden_record.golden import default_store_url
    from golden_record.rights.suppression import suppressed_rows

    url = store_url or default_store_url(run.root)

    def suppressed(system: str, record_ids: pd.Series) -> pd.Series | None:
        return suppressed_rows(system, record_ids, url, run.root)

    return extract_source(source, run, settings, full_refresh=full_refresh, suppressed=suppressed)


def load_canonical(run: Run) -> pd.DataFrame:
    missing = [s for s in source_systems() if not run.canonical(s).is_file()]
    if missing:
        raise FileNotFoundError(
            f"run {run.key}: canonical records missing for {', '.join(missing)}; extract first"
        )
    frames = [pd.read_parquet(run.canonical(s)) for s in source_systems()]
    return pd.concat(frames, ignore_index=True).astype("string")


def standardise(run: Run, full_refresh: bool = False, store_url: str | None = None) -> Standardised:
    """Standardise the canonical records the run's extracts landed."""
    return standardise_canonical(
        run, load_canonical(run), full_refresh=full_refresh, store_url=store_url
    )


def standardise_canonical(
    run: Run, canonical: pd.DataFrame, full_refresh: bool = False, store_url: str | None = None
) -> Standardised:
    """Check the canonical contract, then standardise ``canonical`` records as the
    run's (the night's extracts, or a command-line run's input): only those new or
    changed since the last accepted night, unless ``full_refresh``
    (:mod:`golden_record.standardise.incremental`)."""
    from golden_record.extract.canonical import conform_all
    from golden_record.standardise.incremental import standardise_night

    canonical = conform_all(canonical)
    keyed = canonical.assign(unique_id=unique_ids(canonical))
    earlier, why_full = earlier_standardised(run, full_refresh, store_url)
    night = standardise_night(keyed, run.date, earlier, why_full)
    standardised = night.records
    files = run.standardised
    write_parquets(
        [(keyed, files.canonical), (standardised, files.records), (night.hashes, files.hashes)]
    )
    write_text(json.dumps(night.about, indent=2) + "\n", files.about)
    return Standardised(
        records=len(standardised),
        by_source={str(k): int(v) for k, v in canonical["source_system"].value_counts().items()},
        invalid_postcodes=int((~standardised["postcode_valid"].astype(bool)).sum()),
        mode=night.about["mode"],
        records_standardised=int(night.about["standardised"]),
        why_full=night.about.get("why_full"),
    )


def earlier_standardised(
    run: Run, full_refresh: bool = False, store_url: str | None = None
) -> tuple[EarlierStandardised | None, str | None]:
    """The last accepted night's standardised files to reuse unchanged records' rows
    from, or why there is none: under the run's data root or wherever the golden store
    says its last accepted run is (:func:`runs_in_store`)."""
    from golden_record.standardise.incremental import EarlierStandardised, read_about

    if full_refresh:
        return None, "a full run was asked for (full_refresh)"

    def standardised(night: Run) -> bool:
        files = night.standardised
        return all(p.is_file() for p in (files.about, files.hashes, files.records))

    elsewhere = runs_in_store(store_url, run)
    base = nights.last_accepted_before(run, having=standardised, elsewhere=elsewhere)
    if base is None:
        return None, _why_no_base(elsewhere)
    files = base.standardised
    return EarlierStandardised(base.key, read_about(files.about), files.records, files.hashes), None


def runs_in_store(store_url: str | None, run: Run) -> list[Run]:
    """The accepted runs the golden store (``store_url``, else the run's data root's
    store) knows in folders other than ``run``'s data root: what a run writing to a new
    folder builds on; none when that store does not exist yet."""
    from golden_record.golden.store import missing_sqlite_file

    url = store_url or _default_store_url(run)
    if missing_sqlite_file(url) is not None:
        return []
    return nights.runs_in_store(_store(url, run).accepted_run_folders(before=run.key), run)


def _why_no_base(elsewhere: list[Run]) -> str:
    """Why a run has nothing to build on, naming the folder of the store's last accepted
    run when it is gone (moved, or deleted by hand)."""
    gone = [night for night in elsewhere if not night.dir.is_dir()]
    if not gone:
        return "no earlier accepted night to build on"
    last = max(gone, key=lambda night: night.key)
    return (
        f"no earlier accepted night to build on: the golden store's run {last.key} was "
        f"kept at {last.dir}, which is gone"
    )


def _default_store_url(run: Run) -> str:
    from golden_record.golden import default_store_url

    return default_store_url(run.root)


def _store(store_url: str | None, run: Run) -> GoldenStore:
    from golden_record.golden import GoldenStore, default_store_url

    return GoldenStore(store_url or default_store_url(run.root))


def match(
    run: Run,
    model_path: Path | None = None,
    store_url: str | None = None,
    options: MatchOptions | None = None,
    full_refresh: bool = False,
) -> Matched:
    """Predict and cluster the run's standardised records, honouring every steward
    decision in the golden store.

    The model is pinned at the run's first match (``match/model.json``), so a rerun of
    the run uses that model whatever has been promoted since. At first: the explicit
    model, else the promoted one, else (the first night of a council with no model) one
    trained on this night's records, which is then promoted for the nights after.
    ``options``' own steward decisions are replaced by the store's.

    Pairs are scored only for what changed since the last accepted night
    (:mod:`golden_record.matching.incremental`), unless ``full_refresh`` asks for all, the
    model or blocking rules differ, or it is the month's first night (a full re-match
    each month resets what incremental nights let drift).
    """
    from dataclasses import replace

    import pyarrow.parquet as pq

    from golden_record.golden.stewardship import links, precedents
    from golden_record.matching.backend import lists_in_arrow
    from golden_record.matching.inference import MatchOptions, load_model, predict_and_cluster
    from golden_record.matching.precedents import agreement_with_stewards
    from golden_record.matching.review_queue import review_queue

    # The night is being decided again: until its gate passes, no later night builds on
    # it (nor on match files half rewritten by a crash).
    nights.withdraw(run)
    # A forename's variants and a surname's parts kept in Arrow: as pandas objects each
    # record's list is a NumPy array of its own (0.3 GB more at a million records).
    standardised = pq.read_table(run.standardised.records).to_pandas(types_mapper=lists_in_arrow)
    files = run.match
    model_file, source = pinned_model(run, standardised, model_path)
    store = _store(store_url, run)
    decided = links(store)
    earlier, why_full = earlier_scoring(run, full_refresh, store_url)
    options = replace(
        options or MatchOptions(),
        cannot_link=frozenset(decided.cannot),
        must_link=frozenset(decided.must),
        earlier=earlier,
        why_full=why_full,
        precedents=precedents(store),
    )
    # Handed over with no name kept here, so the match can let go of the columns it does
    # not score with once it has its own copy of the records it scores (a third of a
    # gigabyte at a million records, held through Splink's predictions otherwise). The
    # match's own result, not match_standardised's frames keyed by source ids, which the
    # night does not write.
    handed = [standardised]
    del standardised
    result = predict_and_cluster(handed.pop(), load_model(model_file), options)
    scoring = result.scoring
    clusters = result.clusters.rename(columns={"cluster_match_probability": "match_probability"})
    queue = review_queue(result.review_pairs, result.clusters)
    settled = result.settled
    written = [
        (result.pairs, files.scored_pairs),
        (clusters.sort_values("unique_id").reset_index(drop=True), files.xref),
        (result.review_pairs, files.review_pairs),
        (queue, files.review_queue),
        (settled, files.settled_pairs),
    ]
    if scoring is not None:
        written.append((scoring.records, files.scored_records))
    write_parquets(written)
    if result.kept_components is not None:
        result.kept_components.write(files.kept_components)
    else:
        files.kept_components.unlink(missing_ok=True)
    if scoring is not None:
        about = scoring.about()
        about["last_full"] = about["last_full"] or run.key
        write_text(json.dumps(about, indent=2) + "\n", files.scoring)
    else:
        files.scoring.unlink(missing_ok=True)
    sizes = clusters.groupby("cluster_id").size()
    return Matched(
        records=len(clusters),
        clusters=int(sizes.size),
        scored_pairs=len(result.pairs),
        review_pairs=len(result.review_pairs),
        largest_cluster=int(sizes.max()) if sizes.size else 0,
        model=source["model"],
        model_trained_this_night=bool(source["trained_this_night"]),
        steward_decisions=len(decided.must) + len(decided.cannot),
        scoring=scoring.mode if scoring else "full",
        why_full=scoring.why_full if scoring else "fewer than two records to score",
        records_rescored=(
            (scoring.changed if scoring.mode == "incremental" else len(scoring.records))
            if scoring
            else 0
        ),
        components_kept=result.components_kept,
        review_items=int(queue["item_id"].nunique()),
        review_records=len(queue),
        agreement_with_stewards=agreement_with_stewards(
            result.pairs, decided.must, decided.cannot, options.thresholds.auto_match
        ),
        settled_by_evidence=int((settled["settled_by"] == "evidence").sum()),
        settled_same=int((settled["decision"] == "same").sum()),
        settled_different=int(
            ((settled["decision"] == "different") & (settled["settled_by"] == "precedent")).sum()
        ),
    )


def earlier_scoring(
    run: Run, full_refresh: bool = False, store_url: str | None = None
) -> tuple[EarlierScoring | None, str | None]:
    """The last accepted night's scoring to build this night's on (under the run's data
    root or wherever the golden store says its last accepted run is), or why there is
    none (the pairs are then scored in full)."""
    from golden_record.matching.incremental import EarlierScoring

    if full_refresh:
        return None, "a full re-match was asked for (full_refresh)"

    def scored(night: Run) -> bool:
        files = night.match
        return all(p.is_file() for p in (files.scoring, files.scored_records, files.scored_pairs))

    elsewhere = runs_in_store(store_url, run)
    base = nights.last_accepted_before(run, having=scored, elsewhere=elsewhere)
    if base is None:
        return None, _why_no_base(elsewhere)
    about = json.loads(base.match.scoring.read_text(encoding="utf-8"))
    try:
        last_full = Run.of(about.get("last_full") or base.key, root=run.root).date
    except ValueError:  # a command-line run key that is not a date
        last_full = base.date
    if (last_full.year, last_full.month) != (run.date.year, run.date.month):
        return None, f"the month's full re-match (the last was on {last_full.isoformat()})"
    files = base.match
    kept = files.kept_components if files.kept_components.is_file() else None
    return EarlierScoring(base.key, about, files.scored_records, files.scored_pairs, kept), None


def pinned_model(
    run: Run, standardised: pd.DataFrame, model_path: Path | None = None
) -> tuple[Path, dict]:
    """The run's model file and where it came from, choosing and pinning it the first
    time the run is matched (training and promoting one if the council has none)."""
    from golden_record.matching import registry

    pinned, about = run.match.model, run.match.model_source
    if pinned.is_file() and about.is_file():
        return pinned, json.loads(about.read_text())
    chosen = registry.resolve(model_path, run.root)
    source: dict[str, object] = {"model": None, "trained_this_night": False}
    if chosen is None:
        from golden_record.matching.backend import lists_as_objects

        # As a file read plainly gives them, as ``golden-record train`` trains on them.
        trained = registry.train_version(
            lists_as_objects(standardised),
            trained_on=f"run {run.key}",
            run_date=run.date,
            root=run.root,
        )
        chosen = registry.promote(trained["model_file"], run.root)
        source |= {
            "trained_this_night": True,
            "training_records": trained["training_records"],
            "promoted": True,
            # Trained, or the packaged one where the trained model learnt households.
            "chosen": trained.get("chosen"),
            "why": trained.get("why"),
        }
    source["model"] = chosen.name
    write_text(chosen.read_text(encoding="utf-8"), pinned)
    write_text(json.dumps(source, indent=2) + "\n", about)
    return pinned, source


def training_run(as_of: Run, run_key: str | None = None) -> Run:
    """The night a retraining reads: the one named, else the last accepted night on or
    before ``as_of`` with standardised records. Keyed by the training run's own date,
    never "the latest run", so rerunning a training run reads the same night."""
    if run_key:
        named = as_of.other(run_key)
        if not named.standardised.records.is_file():
            raise FileNotFoundError(f"run {run_key} has no standardised records to train on")
        return named

    def has_records(night: Run) -> bool:
        return night.standardised.records.is_file()

    if nights.is_accepted(as_of) and has_records(as_of):
        return as_of
    found = nights.last_accepted_before(as_of, having=has_records)
    if found is None:
        raise FileNotFoundError(
            f"no accepted night on or before {as_of.key} with standardised records under "
            f"{as_of.runs_dir}; run the nightly DAG first or name a run (run_key)"
        )
    return found


def train_model(training: Run, night: Run) -> dict:
    """Train a new model version, named by the ``training`` run's date, on the
    standardised records of ``night`` (see :func:`training_run`)."""
    from golden_record.matching.registry import train_version

    standardised = pd.read_parquet(night.standardised.records)
    return train_version(
        standardised, trained_on=f"run {night.key}", run_date=training.date, root=night.root
    )


def build_golden(run: Run, store_url: str | None = None, staged: bool = True) -> GoldenBuilt:
    """Apply the run's clusters to the golden store; write its golden records, cross-
    reference and change events to the run's golden files.

    ``staged``: the store takes the run as its state only when its golden gate passes
    (the night); a command-line run, which has no gate, is taken at once."""
    from golden_record.golden.carried_detail import ordered_pair
    from golden_record.golden.records import PRESENTED_FROM_STANDARDISED, presentable
    from golden_record.golden.snapshot import golden_files

    # Only the columns shown, and the inputs let go once joined: a first night at a
    # million records held every standardised column through the whole store update.
    records = presentable(
        pd.read_parquet(run.standardised.canonical),
        pd.read_parquet(run.standardised.records, columns=list(PRESENTED_FROM_STANDARDISED)),
    )
    clusters = pd.read_parquet(run.match.xref).rename(
        columns={"match_probability": "cluster_match_probability"}
    )
    review_pairs = pd.read_parquet(run.match.review_pairs)
    store = _store(store_url, run)
    # The night is being decided (again): until its gate passes, no later night builds
    # on it.
    nights.withdraw(run)
    previous_golden = _golden_before(store, run.key)
    carried = _carried_detail(run, review_pairs, store, store_url)
    serialised = review_pairs[
        ~pd.MultiIndex.from_frame(ordered_pair(review_pairs)).isin(
            pd.MultiIndex.from_frame(carried[["record_a", "record_b"]])
        )
    ]
    summary = store.apply_run(
        run.key,
        run.date.isoformat(),
        clusters,
        records,
        review_pairs,
        pair_detail=_detail_of(run.match.scored_pairs, serialised),
        staged=staged,
        rebuild_all=_why_rebuild_all(run),
        carried_detail=carried,
    )
    # Where this run's files are, so a later run writing elsewhere builds on them.
    store.keep_run_folder(run.key, run.dir)
    # The night's inputs are in the store now: let them go before the golden files are
    # read and patched, this task's peak on a quiet night.
    del records, clusters, review_pairs, carried, serialised
    give_back()
    snapshot = golden_files(store, run)
    golden = snapshot.golden
    events = store.events_of_run(run.key)
    files = run.golden
    write_parquets(
        [
            (golden, files.golden_records),
            (snapshot.xref, files.xref),
            (events, files.events),
            (store.lineage(), files.lineage),
        ]
    )
    result = GoldenBuilt(
        golden_records=len(golden),
        previous_golden_records=previous_golden,
        source_records=len(snapshot.xref),
        events=dict(summary.events),
        store=store.safe_url,
        reapplied_unchanged=summary.replayed,
        store_status=summary.status,
        input_fingerprint=summary.input_fingerprint,
        records_rebuilt=summary.records_rebuilt,
        why_all=summary.why_all,
        files_patched_from=snapshot.patched_from,
    )
    write_text(json.dumps(result.to_dict(), indent=2) + "\n", files.summary)
    return result


def _carried_detail(
    run: Run, review_pairs: pd.DataFrame, store: GoldenStore, store_url: str | None
) -> pd.DataFrame:
    """The review pairs whose scored detail the store holds from the night this night's
    scoring built on (:mod:`golden_record.golden.carried_detail`); none on a night scored
    in full."""
    from golden_record.golden.carried_detail import CARRIED_COLUMNS, carried_detail

    files = run.match
    none = pd.DataFrame(columns=CARRIED_COLUMNS)
    if review_pairs.empty or not (files.scoring.is_file() and files.scored_records.is_file()):
        return none
    about = json.loads(files.scoring.read_text(encoding="utf-8"))
    if about.get("mode") != "incremental":
        return none
    earlier, _ = earlier_scoring(run, store_url=store_url)
    if earlier is None or earlier.run_key != about.get("base_run"):
        return none
    return carried_detail(
        review_pairs,
        pd.read_parquet(files.scored_records),
        earlier.records,
        store.review_detail_hashes(earlier.run_key),
    )


def _detail_of(scored_pairs: Path, review_pairs: pd.DataFrame) -> pd.DataFrame:
    """The scored detail of the review pairs only (a twelfth of a million-record night's
    pairs), picked out in Arrow before anything becomes pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from golden_record.keys import held_in

    if review_pairs.empty or pq.ParquetFile(scored_pairs).metadata.num_rows == 0:
        # (A file of no pairs may hold its ids as Arrow's null type, which no filter on
        # text reads.)
        return pq.read_schema(scored_pairs).empty_table().to_pandas()
    # Only rows whose left record is in a review pair are read whole (on a night whose
    # review detail is mostly carried, a few thousand of 790,000 at a million records).
    lefts = pa.array(review_pairs["unique_id_l"].astype("string").unique(), type=pa.string())
    scored = pq.read_table(scored_pairs, filters=pc.field("unique_id_l").isin(lefts))
    if scored.num_rows == 0:
        return scored.to_pandas()

    def pair_keys(left: object, right: object) -> pa.Array:
        texts = [pa.array(side, type=pa.string()) for side in (left, right)]
        return pc.binary_join_element_wise(*texts, "\x1f")

    wanted = pair_keys(
        review_pairs["unique_id_l"].astype("string"), review_pairs["unique_id_r"].astype("string")
    )
    keys = pair_keys(
        scored["unique_id_l"].cast(pa.string()), scored["unique_id_r"].cast(pa.string())
    )
    return scored.filter(pa.array(held_in(keys, wanted))).to_pandas()


def _why_rebuild_all(run: Run) -> str | None:
    """A night whose pairs were scored in full (the monthly check, ``full_refresh``, a new
    model) rebuilds every golden record too, so both shortcuts are checked together;
    other nights rebuild only the clusters their changes touch."""
    if not run.match.scoring.is_file():
        return None
    about = json.loads(run.match.scoring.read_text(encoding="utf-8"))
    if about.get("mode") != "full":
        return None
    return f"the pairs were scored in full ({about.get('why_full') or 'no reason given'})"


def _golden_before(store: GoldenStore, run_key: str) -> int:
    """Active golden records after the store's last accepted run before ``run_key`` (0 if
    none): a refused night is never the baseline of the change shares."""
    runs = store.runs(accepted_only=True)
    earlier = runs[runs["run_key"] < run_key]
    for summary in reversed(earlier["summary"].tolist()):
        if summary:
            return int(json.loads(summary)["golden_records"])
    return 0


def quality_gate(gate: str, run: Run, store_url: str | None = None) -> GatePassed:
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
    store = _store(store_url, run)
    if gate == "golden" and store.run_status(run.key) is None:
        raise NightNotStaged(
            f"run {run.key}: the golden store does not hold this night's changes (taken back "
            "when a gate refused the night); rebuild its golden records (clear build_golden "
            "and the tasks after it) before running the golden gate again"
        )
    result = run_gate(
        gate,
        run,
        lambda: read(run, load_bands()),
        inputs=_gate_inputs(gate, run),
        accepted=_steward_acceptance(store, run, gate),
    )
    if not result.passed:
        nights.withdraw(run)
        # This night's staged changes, and any a crashed earlier night left staged: a
        # refused night leaves the store at its last accepted state, whichever gate refused.
        store.take_back_pending()
        raise GateFailed(result)
    if gate == "golden":
        store.accept_run(run.key)
        accepted_by = (result.accepted or {}).get("accepted_by") if result.refused else None
        nights.mark_accepted(run, by=f"steward {accepted_by}" if accepted_by else gate)
    return GatePassed(
        gate=gate,
        passed=True,
        checks=len(result.checks),
        warnings=len(result.warnings),
        data_docs=result.data_docs,
        accepted_by_steward=bool(result.refused),
    )


def accept_refused_night(run: Run, by: str, reason: str, store_url: str | None = None) -> dict:
    """Record a steward's acceptance of a night a gate refused only for judgements a person
    can make: the sources gate for a column emptied or many records changed at source, the
    golden gate for the size of its changes. The gate then passes for exactly that input
    when the night is run again from it. Raises ``StoreError`` saying why a night cannot be
    accepted."""
    from golden_record.golden import StoreError
    from golden_record.golden.acceptance import accept_night
    from golden_record.quality import read_gate_result
    from golden_record.quality.batches import acceptable_batches

    results = {gate: read_gate_result(run, gate) for gate in ("sources", "golden")}
    refused = [gate for gate, result in results.items() if result and not result.passed]
    if not refused:
        ran = [gate for gate, result in results.items() if result]
        raise StoreError(
            f"run {run.key}: its {' and '.join(ran)} gate passed; nothing to accept"
            if ran
            else f"run {run.key}: no gate has run; nothing to accept"
        )
    gate = refused[0]  # the sources gate runs first: a night it refused went no further
    result = results[gate]
    assert result is not None
    others = [c for c in result.refused if c.batch not in acceptable_batches(gate)]
    if result.error or others:
        what = result.error or "; ".join(f"{c.batch}: {c.expectation}" for c in others[:3])
        raise StoreError(
            f"run {run.key} failed checks a steward cannot accept ({what}); only a column "
            "emptied or many records changed at source, or the size of the night's changes, "
            "can be accepted. Fix the data and rerun the night"
        )
    fingerprint = _gate_fingerprint(gate, run)
    if fingerprint is None:
        raise StoreError(f"run {run.key}: the {gate} gate's input is gone; rerun the night")
    row = accept_night(_store(store_url, run), run.key, fingerprint, by, reason, gate=gate)
    return {
        **row,
        "refused": [c.column for c in result.refused],
        "rerun_from": "gate_sources" if gate == "sources" else "build_golden",
    }


def _gate_inputs(gate: str, run: Run) -> tuple[Path, ...]:
    """The files a gate's verdict is about: publish proves it uses the golden gate's, and
    a steward's acceptance of the sources gate holds for exactly these."""
    if gate == "golden":
        return run.golden.published
    return tuple(run.canonical(source) for source in source_systems())


def _gate_fingerprint(gate: str, run: Run) -> str | None:
    """What a steward's acceptance of ``gate`` holds for: the golden store's input
    fingerprint for the golden gate, the canonical files' digest for the sources gate."""
    from golden_record.digest import files_sha256

    if gate == "golden":
        summary_file = run.golden.summary
        if not summary_file.is_file():
            return None
        return json.loads(summary_file.read_text(encoding="utf-8")).get("input_fingerprint")
    inputs = _gate_inputs(gate, run)
    return files_sha256(inputs) if all(path.is_file() for path in inputs) else None


class NightNotStaged(RuntimeError):
    """The golden gate was asked to pass a night the store no longer holds."""


def _steward_acceptance(store: GoldenStore, run: Run, gate: str) -> dict | None:
    """A steward's acceptance of this night's gate, for exactly the input now there; it
    covers the batches a steward may accept in that gate."""
    from golden_record.golden.acceptance import acceptance_of
    from golden_record.quality.batches import acceptable_batches

    fingerprint = _gate_fingerprint(gate, run)
    found = acceptance_of(store, run.key, fingerprint, gate) if fingerprint else None
    return {**found, "batches": acceptable_batches(gate)} if found else None


class PublishRefused(RuntimeError):
    """The run's golden records did not pass (or were changed after) the golden gate."""


def _check_gate_passed(run: Run) -> None:
    from golden_record.digest import file_sha256
    from golden_record.quality.gates import read_gate_result

    result = read_gate_result(run, "golden")
    if result is None:
        raise PublishRefused(f"run {run.key}: the golden gate has not run; nothing published")
    if not result.passed:
        raise PublishRefused(f"run {run.key}: {result.headline()}; nothing published")
    for path in run.golden.published:
        name = str(path.relative_to(run.dir))
        if result.inputs.get(name) != file_sha256(path):
            raise PublishRefused(
                f"run {run.key}: {name} is not the file the golden gate passed (rebuilt "
                "since?); run the gate again. Nothing published"
            )


def publish(
    run: Run, crm_url: str, export_root: Path | None = None, store_url: str | None = None
) -> Published:
    """Publish the run's gated golden records to the CRM, then export them as files.
    Residents whose processing is restricted (the golden store's restrictions) are left
    out."""
    from golden_record.publish import export_run
    from golden_record.rights.crm import publish_as_seen

    _check_gate_passed(run)
    summary = publish_as_seen(_store(store_url, run), run.golden, run.key, crm_url)
    if summary.outcome == "superseded":
        return Published(summary)
    return Published(summary, export=str(export_run(run.key, crm_url, export_root or run.root)))


def retain(run: Run) -> Retained:
    """Delete what is past its source's retention as of ``run``, once ``run`` is accepted
    (a refused night changes nothing); what a later night or a replay needs stays
    (:mod:`golden_record.retention`)."""
    from golden_record import retention

    if not nights.is_accepted(run):
        return Retained(run_key=run.key)
    return retention.enforce(run)


def report(
    run: Run,
    stage_results: dict,
    run_id: str | None = None,
    store_url: str | None = None,
    started_at: datetime | None = None,
) -> ReportWritten:
    """Write the run's report (``report.html`` for people, ``report.json`` for machines
    and later runs' trends); ``stage_results`` holds None for stages that did not finish.
    Returns the paths and whether the run was stopped, and why."""
    from sqlalchemy.exc import SQLAlchemyError

    from golden_record.reporting import gather, write_report
    from golden_record.rights.requests import standing

    queue = None
    rights = None
    try:
        store = _store(store_url, run)
        rights = standing(store)
    except (SQLAlchemyError, OSError):
        store = None  # the report still says what the stages did (the store is down)
    if stage_results.get("golden") and store is not None:
        from golden_record.golden.stewardship import queue as review_queue

        queue = len(review_queue(store))
    facts = gather(
        run, stage_results, run_id=run_id, review_queue=queue, rights=rights, started_at=started_at
    )
    written = write_report(facts, run)
    return ReportWritten(
        report_html=written["report_html"],
        report_json=written["report_json"],
        outcome=facts.outcome,
        stopped=list(facts.stopped_because),
    )
