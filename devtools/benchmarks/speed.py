"""``make bench``: a million canonical records through standardise + predict + cluster.

Each measured step runs in its own process, so its peak memory (max resident set size)
is its own. "Ours" is the nightly path
(:func:`golden_record.matching.stage.match_records`: standardise, predict,
conflict-aware clustering with bands). "Plain Splink" is Splink alone on the same
standardised records with the same model: predict, then Splink's connected components.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from devtools.benchmarks import own_peak_mb
from golden_record.digest import files_sha256
from golden_record.paths import PROJECT_ROOT


def measure_ours(persons: Path, model: Path | None) -> dict:
    from golden_record.matching.stage import match_records

    records = pd.read_parquet(persons).astype("string")
    loaded_mb = own_peak_mb()
    started = time.perf_counter()
    output = match_records(records, model_path=model)
    seconds = time.perf_counter() - started
    return {
        "records": len(records),
        "seconds": round(seconds, 1),
        "peak_mb": round(own_peak_mb()),
        "after_loading_mb": round(loaded_mb),
        "clusters": int(output.xref["cluster_id"].nunique()),
        "scored_pairs": len(output.result.pairs),
        "review_pairs": len(output.review_pairs),
    }


def measure_plain_splink(standardised: Path, model: Path | None) -> dict:
    from splink import Linker

    from golden_record.matching.backend import default_db_api, register
    from golden_record.matching.inference import Thresholds, load_model

    records = pd.read_parquet(standardised)
    loaded_mb = own_peak_mb()
    started = time.perf_counter()
    db_api = default_db_api()
    linker = Linker(register(db_api, records), load_model(model), log_level=None)
    scored = linker.inference.predict(
        threshold_match_probability=Thresholds().review, warning_mode="never"
    )
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        scored, threshold_match_probability=Thresholds().auto_match
    ).as_pandas_dataframe()
    seconds = time.perf_counter() - started
    return {
        "records": len(records),
        "seconds": round(seconds, 1),
        "peak_mb": round(own_peak_mb()),
        "after_loading_mb": round(loaded_mb),
        "clusters": int(clusters["cluster_id"].nunique()),
    }


# Shares of the council matched on each backend, to measure how Spark's time grows.
BACKEND_SHARES = (0.25, 0.5, 1.0)


def council_share(records: pd.DataFrame, share: float) -> pd.DataFrame:
    """The records of ``share`` of the postcodes (a smaller council: the same people per
    postcode, so blocking finds as many pairs per record)."""
    if share >= 1:
        return records
    postcodes = records["postcode"].astype("string").fillna("")
    bucket = pd.util.hash_pandas_object(postcodes, index=False).to_numpy() % 1000
    return records[bucket < int(share * 1000)].reset_index(drop=True)


class _TimedClustering:
    """Times the night's clustering call (in the task or on Spark) and keeps its inputs,
    so the same links can be clustered in the task beside it."""

    def __init__(self) -> None:
        from golden_record.matching import inference

        self.inference = inference
        self.seconds = 0.0
        self.on = "task"
        self.calls: list[tuple[tuple, dict]] = []
        self.results: list[Any] = []
        self.originals = {
            name: getattr(inference, name)
            for name in ("cluster_without_conflicts", "cluster_on_spark")
        }

    def __enter__(self) -> _TimedClustering:
        for name, real in self.originals.items():
            setattr(self.inference, name, self._timed(name, real))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, real in self.originals.items():
            setattr(self.inference, name, real)

    def _timed(self, name: str, real: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = real(*args, **kwargs)
            self.seconds += time.perf_counter() - started
            self.on = "spark" if name == "cluster_on_spark" else "task"
            self.calls.append((args, {k: v for k, v in kwargs.items() if k != "db_api"}))
            self.results.append(result)
            return result

        return timed


def measure_backend(standardised: Path, model: Path | None, backend: str, share: float) -> dict:
    """The night's predict + cluster (ours, with the guards) on ``backend``; on Spark, the
    same links clustered in the task as well, timed and compared."""
    from golden_record.matching.backend import matching_db_api
    from golden_record.matching.clustering import cluster_without_conflicts
    from golden_record.matching.inference import MatchOptions, load_model, predict_and_cluster

    records = council_share(pd.read_parquet(standardised), share)
    started = time.perf_counter()
    db_api = matching_db_api(backend)
    with _TimedClustering() as clustering:
        result = predict_and_cluster(records, load_model(model), MatchOptions(db_api=db_api))
    seconds = time.perf_counter() - started
    in_task: dict[str, object] = {}
    if clustering.on == "spark":
        [(args, kwargs)], [on_spark] = clustering.calls, clustering.results
        began = time.perf_counter()
        task = cluster_without_conflicts(*args, **kwargs)
        task_seconds = time.perf_counter() - began

        def refused(found: Any) -> set:
            columns = ["unique_id_l", "unique_id_r", "reason"]
            return set(found.refused[columns].itertuples(index=False, name=None))

        in_task = {
            "task_cluster_seconds": round(task_seconds, 1),
            "clusters_equal_to_task": bool(
                task.clusters.equals(on_spark.clusters) and refused(task) == refused(on_spark)
            ),
        }
    clusters = result.clusters.sort_values("unique_id")
    folder = standardised.parent / f"clusters_{backend}_{share}.parquet"
    clusters[["unique_id", "cluster_id"]].to_parquet(folder, index=False)
    if backend == "spark":
        db_api.spark.stop()
    return {
        "backend": backend,
        "share": share,
        "records": len(records),
        "seconds": round(seconds, 1),
        "peak_mb": round(own_peak_mb()),
        "pairs": len(result.pairs),
        "clusters": int(clusters["cluster_id"].nunique()),
        "clusters_file": str(folder),
        "clustered_on": clustering.on,
        "cluster_seconds": round(clustering.seconds, 1),
        **in_task,
    }


def cluster_pair_agreement(a: Path, b: Path) -> float:
    """Share of the record pairs put together by either clustering that both put together."""
    import itertools

    def together(path: Path) -> set[tuple[str, str]]:
        frame = pd.read_parquet(path)
        sizes = frame.groupby("cluster_id")["unique_id"].transform("size")
        found: set[tuple[str, str]] = set()
        for _, members in frame[sizes > 1].groupby("cluster_id")["unique_id"]:
            found |= set(itertools.combinations(sorted(members), 2))
        return found

    left, right = together(a), together(b)
    return len(left & right) / max(1, len(left | right))


# Where a record lives: the columns a move between nights changes.
STANDARDISED_PLACE = ("postcode", "address_key", "uprn", "town")
CANONICAL_PLACE = ("address_line_1", "address_line_2", "address_line_3", "town", "postcode", "uprn")


def changed_night(
    records: pd.DataFrame,
    seed: int = 7,
    record_id: str = "unique_id",
    place: tuple[str, ...] = STANDARDISED_PLACE,
    also_set: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two nights of records (standardised by default; canonical with the canonical
    ``record_id`` and ``place``), 1% changed between them: 0.5% new tonight (held back
    from the first), 0.3% with a new email or a moved address, 0.2% deleted. ``also_set``:
    values every changed record takes too (its change time at source)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    draw = rng.random(len(records))
    first = records[~(draw < 0.005)].reset_index(drop=True)
    tonight = records[~((draw >= 0.005) & (draw < 0.007))].copy()
    index = tonight.index[(draw[tonight.index] >= 0.007) & (draw[tonight.index] < 0.010)]
    half = index[: len(index) // 2]
    tonight.loc[half, "email"] = "moved." + tonight.loc[half, record_id].str[-8:] + "@example.org"
    rest = index[len(index) // 2 :]
    # Each moves to another record's address (not all to one, which the loose postcode
    # rule would turn into a million pairs).
    homes = tonight.loc[rng.choice(tonight.index, size=len(rest), replace=False), list(place)]
    tonight.loc[rest, list(place)] = homes.to_numpy()
    for column, value in (also_set or {}).items():
        tonight.loc[index, column] = value
    return first, tonight.reset_index(drop=True)


def measure_incremental(standardised: Path, model: Path | None) -> dict:
    """The match of a night with 1% changed, on the first night's pairs and in full, on
    the same records in one process: time, and whether the two agree."""
    import tempfile

    from golden_record.matching.incremental import EarlierScoring
    from golden_record.matching.inference import MatchOptions, load_model, predict_and_cluster

    first, tonight = changed_night(pd.read_parquet(standardised))
    loaded = load_model(model)
    started = time.perf_counter()
    night_one = predict_and_cluster(first, loaded)
    first_seconds = time.perf_counter() - started
    assert night_one.scoring is not None
    with tempfile.TemporaryDirectory() as folder:
        records_file, pairs_file = Path(folder, "records.parquet"), Path(folder, "pairs.parquet")
        night_one.scoring.records.to_parquet(records_file)
        night_one.pairs.to_parquet(pairs_file)
        earlier = EarlierScoring("first", night_one.scoring.about(), records_file, pairs_file)
        del night_one
        started = time.perf_counter()
        quick = predict_and_cluster(tonight, loaded, MatchOptions(earlier=earlier))
        incremental_seconds = time.perf_counter() - started
    started = time.perf_counter()
    whole = predict_and_cluster(tonight, loaded)
    full_seconds = time.perf_counter() - started
    assert quick.scoring is not None
    key = ["unique_id_l", "unique_id_r"]
    ours = quick.pairs.set_index(key)["match_weight"].astype(float)
    theirs = whole.pairs.set_index(key)["match_weight"].astype(float)
    common = ours.index.intersection(theirs.index)
    drift = (ours.reindex(common) - theirs.reindex(common)).abs()
    clusters = quick.clusters.set_index("unique_id")["cluster_id"]
    same_cluster = clusters.reindex(whole.clusters["unique_id"]).to_numpy() == (
        whole.clusters["cluster_id"].to_numpy()
    )
    return {
        "records": len(tonight),
        "changed": quick.scoring.changed,
        "first_night_seconds": round(first_seconds, 1),
        "incremental_seconds": round(incremental_seconds, 1),
        "full_seconds": round(full_seconds, 1),
        "pairs_only_incremental": len(ours.index.difference(theirs.index)),
        "pairs_only_full": len(theirs.index.difference(ours.index)),
        "weight_drift_max_bits": round(float(drift.max()), 4) if len(drift) else 0.0,
        "pairs_drifting_over_0_01_bits": int((drift > 0.01).sum()),
        "records_in_another_cluster": int((~same_cluster).sum()),
        "peak_mb": round(own_peak_mb()),
    }


def measure_cli_night(night_input: Path, workdir: Path, run_key: str, model: Path | None) -> dict:
    """``golden-record match --store`` as a council runs it, in this process: one night
    into its own output folder (``workdir/<run_key>``), the store shared by every night
    (``workdir/golden_store.db``). Its standard output says how it scored."""
    import contextlib
    import io

    from golden_record.cli import app

    said, progress = io.StringIO(), io.StringIO()
    command = [
        "match",
        *("--input", str(night_input), "--output-dir", str(workdir / run_key)),
        *("--store", f"sqlite:///{workdir / 'golden_store.db'}", "--run-key", run_key),
    ]
    if model:
        command += ["--model", str(model)]
    started = time.perf_counter()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(progress):
        app(command, standalone_mode=False)
    seconds = time.perf_counter() - started
    lines = said.getvalue().splitlines()
    return {
        "seconds": round(seconds, 1),
        "peak_mb": round(own_peak_mb()),
        "steps": [line[2:] for line in progress.getvalue().splitlines() if line.startswith("✓")],
        "scored": next((line for line in lines if line.startswith("scored")), ""),
    }


def measure_cli(persons: Path, model: Path | None) -> dict:
    """Two nights of ``golden-record match --store``, each in its own process and output
    folder: the first on the council less 0.5%, the second with 1% changed
    (:func:`changed_night`); the second finds the first's state through the
    store."""
    import shutil

    from golden_record.matching.registry import packaged

    workdir = persons.parent / "cli-nights"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    # The model plain Splink is measured with, so both score with the same one.
    model = model or packaged()
    first, tonight = changed_night(
        pd.read_parquet(persons),
        record_id="source_record_id",
        place=CANONICAL_PLACE,
        also_set={"source_updated_at": "2026-11-02 12:00:00"},
    )
    nights = {}
    for key, frame in (("2026-11-02", first), ("2026-11-03", tonight)):
        night_input = workdir / f"input-{key}.parquet"
        frame.to_parquet(night_input)
        nights[key] = _child(
            "cli-night", night_input, model, "--workdir", str(workdir), "--run-key", key
        )
    shutil.rmtree(workdir, ignore_errors=True)
    return {"records": len(first), "tonight": len(tonight), "nights": nights}


def measure_store(persons: Path, model: Path | None) -> dict:
    """Two nights into a fresh SQLite golden store: the first creates every golden record,
    the second (same records) should change nothing."""
    import tempfile

    from golden_record.atomic import write_parquet
    from golden_record.extract.canonical import conform_all
    from golden_record.golden import GoldenStore
    from golden_record.golden.records import cross_reference, presentable
    from golden_record.matching.stage import match_records

    records = pd.read_parquet(persons).astype("string")
    output = match_records(records, model_path=model)
    prepared = presentable(conform_all(records), output.standardised)
    timings: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        store = GoldenStore(f"sqlite:///{folder}/golden_store.db")
        for night in ("first", "second"):
            started = time.perf_counter()
            summary = store.apply_run(
                f"night-{night}",
                "2026-11-23",
                output.result.clusters,
                prepared,
                output.result.review_pairs,
                pair_detail=output.result.pairs,
            )
            timings[f"{night}_night_seconds"] = round(time.perf_counter() - started, 1)
            timings[f"{night}_night_events"] = summary.events
        timings["store_mb"] = round(Path(folder, "golden_store.db").stat().st_size / 2**20)
        # Kept beside the records for the publish step.
        golden = store.golden_records().drop(columns=["status", "merged_into"])
        membership = store.current_xref().rename(
            columns={"match_probability": "cluster_match_probability"}
        )
        write_parquet(golden, persons.parent / "golden_records.parquet")
        write_parquet(cross_reference(membership), persons.parent / "xref.parquet")
    return {"records": len(records), "peak_mb": round(own_peak_mb()), **timings}


def measure_publish(folder: Path, backend: str) -> dict:
    """Three nights into a fresh CRM database: the first publishes every golden record,
    the second (same records) rewrites nothing, the third changes 1% of them and retires
    0.1%; then the export of the third night."""
    import tempfile

    from golden_record.publish import export_run, publish

    golden = pd.read_parquet(folder / "golden_records.parquet")
    sources = pd.read_parquet(folder / "xref.parquet")
    changed = golden.copy()
    changed.loc[changed.index[::100], "surname"] = "Changed"
    retired = set(changed["golden_id"].iloc[500::1000])
    changed = changed[~changed["golden_id"].isin(retired)]
    changed_sources = sources[~sources["golden_id"].isin(retired)]
    nights = [(golden, sources), (golden, sources), (changed, changed_sources)]
    timings: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as work:
        server = None
        if backend == "postgresql":
            from devtools.testing.postgres_server import PostgresServer

            server = PostgresServer()
            server.start()
            url = server.create_database("crm")
        else:
            url = f"sqlite:///{work}/crm.db"
        try:
            for number, (night_golden, night_sources) in enumerate(nights, start=1):
                started = time.perf_counter()
                summary = publish(night_golden, night_sources, f"2026-11-0{number}", url)
                timings[f"night_{number}_seconds"] = round(time.perf_counter() - started, 1)
                timings[f"night_{number}"] = f"{summary.outcome} {summary.events}"
            started = time.perf_counter()
            export_run("2026-11-03", url, Path(work))
            timings["export_seconds"] = round(time.perf_counter() - started, 1)
        finally:
            if server:
                server.stop()
    return {
        "golden": len(golden),
        "sources": len(sources),
        "peak_mb": round(own_peak_mb()),
        **timings,
    }


def count_blocked_pairs(standardised: Path) -> dict:
    from golden_record.matching.blocking import as_markdown, blocking_rule_counts

    started = time.perf_counter()
    counts = blocking_rule_counts(pd.read_parquet(standardised))
    return {
        "table": as_markdown(counts),
        "pairs": int(counts["cumulative_comparison_count"].iloc[-1]) if len(counts) else 0,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _child(step: str, path: Path, model: Path | None, *extra: str) -> dict:
    command = [
        sys.executable,
        "-m",
        "devtools.benchmarks.speed",
        "--step",
        step,
        "--input",
        str(path),
        *extra,
    ]
    if model:
        command += ["--model", str(model)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{step} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _generator_digest() -> str:
    """The council generator's code (the mistyped profile beside it plays no part)."""
    import devtools.generate

    folder = Path(devtools.generate.__file__).parent
    return files_sha256(p for p in sorted(folder.glob("*.py")) if p.name != "typo_profile.py")[:12]


def prepare(people: int, seed: int, workdir: Path) -> tuple[Path, Path, dict]:
    """Generated council → canonical records → standardised records (cached by seed)."""
    from devtools.generate import generate
    from devtools.generate.canonical_sample import canonical_records
    from golden_record.atomic import write_parquet
    from golden_record.matching.stage import standardise_records
    from golden_record.standardise.incremental import standardiser_digest

    # Named after the generator's and the standardising code, so a change to either is
    # never measured on records the old code wrote.
    sample = workdir / f"council-{people}-{seed}-{_generator_digest()}"
    persons = sample / "persons.parquet"
    standardised = sample / f"standardised-{standardiser_digest()}.parquet"
    timings: dict[str, object] = {}
    if not persons.is_file():
        started = time.perf_counter()
        generate(people, seed, sample, show_progress=True)
        timings["generate_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        write_parquet(canonical_records(sample), persons)
        timings["extract_seconds"] = round(time.perf_counter() - started, 1)
    if not standardised.is_file():
        write_parquet(standardise_records(pd.read_parquet(persons).astype("string")), standardised)
    return persons, standardised, timings


def measure_lookup(standardised: Path, persons: Path, model: Path | None) -> dict:
    """The portal's "do we know this person?" and a steward's search against a million
    records. Each record's golden record is its person, from the generator's truth (the
    bench times and scores the look-up, not the clustering). Lookup: 40 residents' details
    sampled from the canonical records, asked one after another. Search: 100 residents
    (one record each, as its system holds it) asked for by name and postcode alone, with
    exact details, and with one slip in each field (the questions ``tests/test_search.py``
    asks), each question timed alone; the person first or tied first counted."""
    import random
    import statistics
    from datetime import date

    import pyarrow.parquet as pq

    from devtools.benchmarks.search_questions import ASKED, QUESTION_KINDS, asked, first_or_tied
    from golden_record.matching.inference import load_model
    from golden_record.matching.lookup import Lookup
    from golden_record.matching.model import with_loose_rules

    table = pq.read_table(standardised)
    ids = table.column("unique_id").to_pandas()
    truth = pd.read_csv(persons.parent / "truth" / "ground_truth.csv", dtype="string")
    person_of = pd.Series(
        truth["person_id"].to_numpy(),
        index=pd.Index(truth["source_system"] + ":" + truth["source_record_id"]),
    )
    golden_of = pd.Series(person_of.reindex(ids).fillna(ids).to_numpy(), index=pd.Index(ids))
    # The night's rules, loose ones included, as its scoring chose them (not timed: the
    # nightly lookup reads them from the night's scoring.json).
    rules_model = with_loose_rules(load_model(model), table.to_pandas(), "duckdb")
    started = time.perf_counter()
    lookup = Lookup(table, golden_of, rules_model, date.today())
    load_seconds = time.perf_counter() - started
    fields = ["first_name", "surname", "date_of_birth", "postcode", "email", "phone"]
    canonical = pd.read_parquet(persons, columns=["source_system", "source_record_id", *fields])
    canonical["person"] = (canonical["source_system"] + ":" + canonical["source_record_id"]).map(
        golden_of
    )
    sample = canonical.dropna(subset=["surname"]).sample(41, random_state=3)
    times, found = [], 0
    for _, person in sample.iterrows():
        details = {f: (None if pd.isna(person[f]) else str(person[f])) for f in fields}
        tick = time.perf_counter()
        answer = lookup.candidates(details)
        times.append(time.perf_counter() - tick)
        found += any(c.golden_id == person["person"] for c in answer)
    timed = sorted(times[1:])  # the first question warms DuckDB's caches

    people = canonical.dropna(subset=list(ASKED)).drop_duplicates("person")
    searched: dict[str, dict] = {}
    search_times: list[float] = []
    for seed, kind in enumerate(QUESTION_KINDS, start=1):
        chosen = people.sample(100, random_state=seed)
        residents = [{f: str(row[f]) for f in ASKED} for _, row in chosen.iterrows()]
        first = 0
        for details, person in zip(
            asked(kind, residents, random.Random(seed)), chosen["person"], strict=True
        ):
            tick = time.perf_counter()
            answer = lookup.search(details)
            search_times.append(time.perf_counter() - tick)
            first += first_or_tied(answer, str(person))
        searched[kind] = {"questions": len(residents), "first": first}
    search_sorted = sorted(search_times)
    return {
        "records": lookup.records,
        "load_seconds": round(load_seconds, 1),
        "questions": len(timed),
        "median_ms": round(statistics.median(timed) * 1000),
        "p90_ms": round(timed[int(0.9 * len(timed))] * 1000),
        "max_ms": round(timed[-1] * 1000),
        "found_person": found,
        "search": searched,
        "search_median_ms": round(statistics.median(search_sorted) * 1000),
        "search_p95_ms": round(search_sorted[int(0.95 * len(search_sorted))] * 1000),
        "search_max_ms": round(search_sorted[-1] * 1000),
        "peak_mb": round(own_peak_mb()),
    }


# Candidate pairs past which the headroom council's predict is not run. The million-record
# council's rules give 7.8 million. At 2.6 million people they gave 156 million while the
# generator drew from en_GB's few hundred names alone (the model's forename and surname
# rule 134 million, growing with the square of the population), and plain Splink's
# predict of them filled the 40 GB of disk left for DuckDB to spill to; with name pools
# that grow with the population, 49.8 million, which plain Splink predicts in memory
# (17 GB at its peak).
HEADROOM_PAIR_LIMIT = 60_000_000


def _headroom(people: int, seed: int, workdir: Path, model: Path | None) -> dict | None:
    """Plain Splink and two nights of ``golden-record match --store`` on a council of
    ``people`` (generated here, not stored in the repository), to show how each step's
    cost grows past a county. The blocking rules' pairs are counted first: past
    :data:`HEADROOM_PAIR_LIMIT` the predicts are not run and the counts say why; a step
    that fails (out of memory, say) is reported, not hidden."""
    if not people:
        return None
    persons, standardised, timings = prepare(people, seed, workdir)
    found: dict[str, Any] = {"people": people, **timings}
    found["blocking"] = _child("blocking", standardised, None)
    if found["blocking"]["pairs"] > HEADROOM_PAIR_LIMIT:
        return found
    for step, path in (("plain-splink", standardised), ("cli", persons)):
        try:
            found[step] = _child(step, path, model)
        except RuntimeError as exc:
            found[step] = {"failed": str(exc)[-500:]}
    return found


def _print_headroom(headroom: dict | None, cli: dict, plain: dict, pairs: int) -> None:
    if headroom is None:
        return
    blocked = headroom["blocking"]
    print(
        f"\nHeadroom: a council of {headroom['people']:,} people; the blocking rules give "
        f"{blocked['pairs']:,} candidate pairs ({blocked['pairs'] / pairs:.1f}× the first "
        "council's):\n"
    )
    if "plain-splink" not in headroom:
        print(
            f"not matched: over the {HEADROOM_PAIR_LIMIT:,} pairs this machine's disk "
            "takes for a predict. The pairs by rule:\n"
        )
        print(blocked["table"])
        return
    big_plain, big_cli = headroom["plain-splink"], headroom["cli"]
    if "failed" in big_plain or "failed" in big_cli:
        print(f"plain Splink: {big_plain}\ngolden-record match --store: {big_cli}")
        return
    print("| step | records | wall time (s) | × the first council's time | peak (MB) |")
    print("|---|---|---|---|---|")
    print(
        f"| plain Splink: predict + cluster | {big_plain['records']:,} | "
        f"{big_plain['seconds']} | {big_plain['seconds'] / plain['seconds']:.1f} "
        f"| {big_plain['peak_mb']:,} |"
    )
    for (key, night), (_, small), records in zip(
        big_cli["nights"].items(),
        cli["nights"].items(),
        (big_cli["records"], big_cli["tonight"]),
        strict=True,
    ):
        print(
            f"| golden-record match --store, {key} | {records:,} "
            f"| {night['seconds']} | {night['seconds'] / small['seconds']:.1f} "
            f"| {night['peak_mb']:,} |"
        )
        print(f"|   its steps | | {'; '.join(night['steps'])} | | |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=520_000, help="about 1.9 records each")
    parser.add_argument(
        "--headroom-people",
        type=int,
        default=2_600_000,
        help="the headroom council (about 5 million records): two nights of "
        "golden-record match --store beside plain Splink; 0 leaves it out",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workdir", type=Path, default=(PROJECT_ROOT or Path.cwd()) / "data" / "bench"
    )
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--step",
        choices=[
            "ours",
            "plain-splink",
            "blocking",
            "store",
            "publish",
            "incremental",
            "lookup",
            "backend",
            "cli",
            "cli-night",
        ],
        default=None,
    )
    parser.add_argument(
        "--backend", choices=["sqlite", "postgresql", "duckdb", "spark"], default="sqlite"
    )
    parser.add_argument("--share", type=float, default=1.0, help="for --step backend")
    parser.add_argument("--input", type=Path, default=None)
    parser.add_argument("--persons", type=Path, default=None, help="for --step lookup")
    parser.add_argument("--run-key", default=None, help="for --step cli-night")
    args = parser.parse_args(argv)

    if args.step == "ours":
        print(json.dumps(measure_ours(args.input, args.model)))
        return 0
    if args.step == "plain-splink":
        print(json.dumps(measure_plain_splink(args.input, args.model)))
        return 0
    if args.step == "store":
        print(json.dumps(measure_store(args.input, args.model)))
        return 0
    if args.step == "incremental":
        print(json.dumps(measure_incremental(args.input, args.model)))
        return 0
    if args.step == "blocking":
        print(json.dumps(count_blocked_pairs(args.input)))
        return 0
    if args.step == "publish":
        print(json.dumps(measure_publish(args.input, args.backend)))
        return 0
    if args.step == "lookup":
        print(json.dumps(measure_lookup(args.input, args.persons, args.model)))
        return 0
    if args.step == "cli":
        print(json.dumps(measure_cli(args.input, args.model)))
        return 0
    if args.step == "cli-night":
        print(json.dumps(measure_cli_night(args.input, args.workdir, args.run_key, args.model)))
        return 0
    if args.step == "backend":
        print(json.dumps(measure_backend(args.input, args.model, args.backend, args.share)))
        return 0

    persons, standardised, timings = prepare(args.people, args.seed, args.workdir)
    ours = _child("ours", persons, args.model)
    plain = _child("plain-splink", standardised, args.model)
    cli = _child("cli", persons, args.model)
    blocked = _child("blocking", standardised, None)
    stored = _child("store", persons, args.model)
    changed = _child("incremental", standardised, args.model)
    published = {
        backend: _child("publish", persons.parent, None, "--backend", backend)
        for backend in ("sqlite", "postgresql")
    }
    looked_up = _child("lookup", standardised, args.model, "--persons", str(persons))
    on_backends = {
        (backend, share): _child(
            "backend", standardised, args.model, "--backend", backend, "--share", str(share)
        )
        for share in BACKEND_SHARES
        for backend in ("duckdb", "spark")
    }
    headroom = _headroom(args.headroom_people, args.seed, args.workdir, args.model)
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    print(
        f"machine: {os.cpu_count()} cores, {memory_gb:.0f} GB RAM, "
        f"{platform.machine()}, python {platform.python_version()}"
    )
    if timings:
        print(
            f"data: generated in {timings['generate_seconds']} s, "
            f"extracted to canonical in {timings['extract_seconds']} s"
        )
    print()
    print("| path | records | wall time (s) | peak memory (MB) | clusters |")
    print("|---|---|---|---|---|")
    print(
        f"| ours: standardise + predict + cluster | {ours['records']:,} | {ours['seconds']} "
        f"| {ours['peak_mb']:,} | {ours['clusters']:,} |"
    )
    print(
        f"| plain Splink: predict + cluster | {plain['records']:,} | {plain['seconds']} "
        f"| {plain['peak_mb']:,} | {plain['clusters']:,} |"
    )
    print(
        f"\nratio ours / plain Splink: time {ours['seconds'] / plain['seconds']:.2f}, "
        f"memory {ours['peak_mb'] / plain['peak_mb']:.2f}; "
        f"ours scored {ours['scored_pairs']:,} pairs, {ours['review_pairs']:,} for review"
    )
    print("\n`golden-record match --store`, two nights, each into a new output folder:\n")
    print(
        "| night | records | wall time (s) | / plain Splink | peak memory (MB) | scored | steps |"
    )
    print("|---|---|---|---|---|---|---|")
    for (key, night), records in zip(
        cli["nights"].items(), (cli["records"], cli["tonight"]), strict=True
    ):
        print(
            f"| {key} | {records:,} | {night['seconds']} "
            f"| {night['seconds'] / plain['seconds']:.2f} | {night['peak_mb']:,} "
            f"| {night['scored']} | {'; '.join(night['steps'])} |"
        )
    _print_headroom(headroom, cli, plain, blocked["pairs"])
    print(
        f"\ngolden store (SQLite), {stored['records']:,} records: first night "
        f"{stored['first_night_seconds']} s {stored['first_night_events']}; second night, "
        f"same records, {stored['second_night_seconds']} s {stored['second_night_events']}; "
        f"store file {stored['store_mb']:,} MB; peak {stored['peak_mb']:,} MB "
        "(including the match before it)"
    )
    print(
        f"\nmatch of a night with 1% changed ({changed['changed']:,} records new or changed "
        f"of {changed['records']:,}): on the earlier night's pairs "
        f"{changed['incremental_seconds']} s, in full {changed['full_seconds']} s (plain "
        f"Splink's predict + cluster of the whole night above: {plain['seconds']} s); pairs "
        f"only in one: {changed['pairs_only_incremental']} / {changed['pairs_only_full']}, "
        f"largest weight drift {changed['weight_drift_max_bits']} bits, records in another "
        f"cluster {changed['records_in_another_cluster']}; peak {changed['peak_mb']:,} MB"
    )
    print("\nCRM publish (write-audit-publish, one transaction) and export:\n")
    print(
        "| CRM database | golden / source rows | night 1: all new (s) | night 2: no change (s) "
        "| night 3: 1% changed, 0.1% retired (s) | export of night 3 (s) | peak memory (MB) |"
    )
    print("|---|---|---|---|---|---|---|")
    for backend, p in published.items():
        print(
            f"| {backend} | {p['golden']:,} / {p['sources']:,} | {p['night_1_seconds']} "
            f"| {p['night_2_seconds']} | {p['night_3_seconds']} ({p['night_3']}) "
            f"| {p['export_seconds']} | {p['peak_mb']:,} |"
        )
    print(
        f"\nportal lookup against {looked_up['records']:,} records: loaded in "
        f"{looked_up['load_seconds']} s; {looked_up['questions']} questions, median "
        f"{looked_up['median_ms']} ms, 90th percentile {looked_up['p90_ms']} ms, slowest "
        f"{looked_up['max_ms']} ms; the person asked about among the candidates "
        f"{looked_up['found_person']} times of {looked_up['questions'] + 1}; peak "
        f"{looked_up['peak_mb']:,} MB"
    )
    firsts = ", ".join(
        f"{kind} {done['first']}/{done['questions']}" for kind, done in looked_up["search"].items()
    )
    print(
        f"search (each question alone, warm): median {looked_up['search_median_ms']} ms, "
        f"95th percentile {looked_up['search_p95_ms']} ms, slowest "
        f"{looked_up['search_max_ms']} ms; the person first or tied first: {firsts}"
    )
    print(
        "\nThe night's predict + cluster (ours) on DuckDB and on Spark local[2], on shares of "
        "the council's postcodes:\n"
    )
    print(
        "| records | DuckDB (s) | Spark local[2] (s) | Spark / DuckDB | pairs | "
        "cluster pair agreement | clustering: on Spark / in the task (s), same links | "
        "clusters equal |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for share in BACKEND_SHARES:
        duck, spark = on_backends[("duckdb", share)], on_backends[("spark", share)]
        agreement = cluster_pair_agreement(
            Path(duck["clusters_file"]), Path(spark["clusters_file"])
        )
        print(
            f"| {duck['records']:,} | {duck['seconds']} | {spark['seconds']} "
            f"| {spark['seconds'] / duck['seconds']:.1f} | {duck['pairs']:,} / {spark['pairs']:,} "
            f"| {agreement:.5f} | {spark['cluster_seconds']} ({spark['clustered_on']}) / "
            f"{spark.get('task_cluster_seconds', '-')} "
            f"| {spark.get('clusters_equal_to_task', '-')} |"
        )
    print(f"\nPairs per prediction blocking rule (counted in {blocked['seconds']} s):\n")
    print(blocked["table"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
