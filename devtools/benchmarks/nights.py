"""Several nights at a council's size, with a night's changes at source between them.

``make bench`` measures one match; this measures the whole nightly path as it runs in
production, night after night, so its figures in docs/benchmarks.md can be measured
again by anyone:

    python -m devtools.benchmarks.nights --people 520000 --seed 1 --workdir BIG_DIR \\
        --nights 3 --via tasks [--rights]

``--via tasks``: each task of the nightly DAG (an extract per source, the sources gate,
standardise, match, build golden, the golden gate, publish, report) in a process of its
own, as Airflow's executors run them: each task's wall time and peak memory (max
resident set size) are its own. ``--via dag``: the real DAG in-process with
``dag.test()`` (project-local Airflow home, SQLite metadata): the tasks' times from
Airflow's metadata database, the night's wall time and peak memory (one process for the
night; each task's peak read from the process's resident memory sampled through it).
``--via cli``: the sources read through the extractors into canonical records
(``python -m devtools canonical``), then ``golden-record match --store`` on them, as a
user without Airflow runs it. Before each night after the first, about 0.45% of the
records change at source (:mod:`devtools.benchmarks.source_edits`, other rows each
night). The packaged model matches every night (``--model``: another; ``--train``: the
first night trains and promotes one, as a council's first night does). ``--fault-night
N``: before night N the libraries' drop holds half its borrowers; that night must be
refused with the golden store and the CRM as they were, every table row for row, and the
next (the drop whole again) publish (:mod:`devtools.benchmarks.night_faults`). ``--rights``:
after the nights, each of a resident's rights commands as an officer runs them
(``golden-record rights …``), timed, on a resident the last night published.

The sample is generated into ``WORKDIR/sample`` (kept for a rerun with the same people
and seed) and edited in place: start a new measurement from a new ``WORKDIR``. The
pipeline's data (runs, golden store, CRM) is ``WORKDIR/data``; each night's figures are
written to ``WORKDIR/bench/nights.json`` and printed as Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from devtools.benchmarks import ResidentSampler, own_peak_mb
from devtools.benchmarks.night_faults import (
    halve_library_drop,
    restore_library_drop,
    table_digests,
)
from golden_record.paths import PROJECT_ROOT


def _tasks() -> tuple[str, ...]:
    """The nightly DAG's tasks in its order: an extract per declared source, then the rest."""
    from golden_record.extract.declaration import source_systems

    return (*(f"extract_{source}" for source in source_systems()), *AFTER_EXTRACTS)


AFTER_EXTRACTS = (
    "gate_sources",
    "standardise",
    "match",
    "golden",
    "gate_golden",
    "publish",
    "retain",
    "report",
)
TOKEN_VARIABLE = "BENCH_PORTAL_TOKEN"


def _child_env(workdir: Path, model: Path | None, train: bool) -> dict[str, str]:
    """The pipeline's settings for every child: this workdir's data, the given (or
    packaged) model unless the first night is to train one, no retries (a failure is a
    figure, not something to wait for)."""
    from golden_record.matching.registry import packaged

    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDEN_RECORD_")}
    env.update(
        {
            "GOLDEN_RECORD_DATA": str(workdir / "data"),
            "GOLDEN_RECORD_EXTRACT_RETRIES": "0",
            "GOLDEN_RECORD_PUBLISH_RETRIES": "0",
        }
    )
    if not train:
        env["GOLDEN_RECORD_MODEL"] = str(model or packaged())
    return env


def _timed_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a child process; its wall time, its own peak memory and what it printed last
    (a JSON line, when it prints one)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=err)
        # Reaped with wait4 for the child's own peak (RUSAGE_CHILDREN would give the
        # largest of every child so far); a child that prints its own (``task``,
        # ``dag-night``: see ``own_peak_mb``) is taken at its word.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        printed, complained = out.read(), err.read()
    found: dict[str, Any] = {}
    lines = [line for line in printed.splitlines() if line.startswith("{")]
    if lines:
        found = json.loads(lines[-1])
    if process.returncode != 0:
        found["error"] = (complained or printed)[-2000:]
    return {
        "seconds": round(seconds, 1),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "ok": process.returncode == 0,
        **found,
    }


def _settings(sample: Path, portal_url: str, token: str) -> Any:
    from devtools.generate.sample_sources import sample_source_settings
    from golden_record.settings import ApiSettings

    return sample_source_settings(sample, ApiSettings(base_url=portal_url, token=token))


def run_task(task: str, day: date, workdir: Path, portal_url: str) -> dict[str, Any]:
    """One task of one night, in this process (the ``task`` sub-command)."""
    from golden_record import pipeline
    from golden_record.run import Run

    run = Run.of(day.isoformat(), root=workdir / "data")
    settings = _settings(workdir / "sample", portal_url, os.environ[TOKEN_VARIABLE])
    results_dir = workdir / "bench" / f"tasks-{day}"
    results_dir.mkdir(parents=True, exist_ok=True)
    crm_url = f"sqlite:///{workdir / 'data' / 'crm.db'}"
    found: Any
    if task.startswith("extract_"):
        found = asdict(pipeline.extract(task.removeprefix("extract_"), run, settings))
    elif task == "gate_sources":
        found = pipeline.quality_gate("sources", run).to_dict()
    elif task == "standardise":
        found = pipeline.standardise(run).to_dict()
    elif task == "match":
        from golden_record.settings import runtime

        # As the DAG's match task: the model GOLDEN_RECORD_MODEL names, else the registry's.
        found = pipeline.match(run, runtime().model).to_dict()
    elif task == "golden":
        found = pipeline.build_golden(run).to_dict()
    elif task == "gate_golden":
        found = pipeline.quality_gate("golden", run).to_dict()
    elif task == "publish":
        found = pipeline.publish(run, crm_url).to_dict()
    elif task == "retain":
        found = pipeline.retain(run).to_dict()
    elif task == "report":
        results: dict[str, Any] = {"extract": {}}
        for done in sorted(results_dir.glob("*.json")):
            name = done.stem
            value = json.loads(done.read_text())
            if name.startswith("extract_"):
                results["extract"][name.removeprefix("extract_")] = value
            else:
                results[name] = value
        written = pipeline.report(run, results)
        return {"outcome": written.outcome}
    else:
        raise SystemExit(f"unknown task {task!r}: one of {', '.join(_tasks())}")
    (results_dir / f"{task}.json").write_text(json.dumps(found, default=str))
    return {}


def run_dag_night(day: date, workdir: Path, portal_url: str) -> dict[str, Any]:
    """One night through the real DAG with ``dag.test()`` (the ``dag-night``
    sub-command): its state and each task's duration from Airflow's metadata DB."""
    from devtools import local_env
    from devtools.demo import run_dag_test

    home = workdir / "airflow_home"
    settings = local_env.airflow_env(home)
    local_env.apply(settings)
    local_env.migrate_metadata_db()
    sample = workdir / "sample"
    crm = f"sqlite:///{workdir / 'data' / 'crm.db'}"
    local_env.apply(local_env.connections_env(sample, portal_url, os.environ[TOKEN_VARIABLE], crm))
    logical = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)  # noqa: UP017
    # Each task's peak inside the one process: resident memory sampled through the
    # night and read between the task's start and end (the night's peak is one task's).
    with ResidentSampler() as resident:
        state = run_dag_test("golden_record_nightly", logical + timedelta(hours=2))
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(
                TaskInstance.task_id,
                TaskInstance.duration,
                TaskInstance.state,
                TaskInstance.start_date,
                TaskInstance.end_date,
            ).where(
                TaskInstance.dag_id == "golden_record_nightly",
                TaskInstance.logical_date == logical + timedelta(hours=2),
            )
        ).all()

    def peak(start: datetime | None, end: datetime | None) -> float | None:
        if start is None or end is None:
            return None
        found = resident.peak_between(start.timestamp(), end.timestamp())
        return None if found is None else round(found)

    def at_start(start: datetime | None) -> float | None:
        found = resident.at(start.timestamp()) if start is not None else None
        return None if found is None else round(found)

    return {
        "state": state,
        "tasks": {
            t: {
                "seconds": round(d or 0, 1),
                "state": str(s),
                "resident_peak_mb": peak(a, b),
                "resident_at_start_mb": at_start(a),
            }
            for t, d, s, a, b in rows
        },
    }


def _profiled(command: list[str], profile: Path | None) -> list[str]:
    """``command`` under py-spy (sampling 25 times a second, raw stacks to ``profile``),
    or as it is; py-spy is not a dependency: install it beside the project to profile."""
    if profile is None:
        return command
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.is_file():
        raise SystemExit(f"--profile-dir needs py-spy beside {sys.executable}")
    return [str(spy), "record", "-o", str(profile), "-f", "raw", "-r", "25", "--", *command]


def _night(
    via: str,
    day: date,
    workdir: Path,
    portal_url: str,
    env: dict[str, str],
    profile_dir: Path | None = None,
) -> dict:
    me = [sys.executable, "-m", "devtools.benchmarks.nights"]
    common = ["--date", day.isoformat(), "--workdir", str(workdir), "--portal-url", portal_url]
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    if via == "tasks":
        tasks = {
            task: _timed_child(
                _profiled(
                    [*me, "task", task, *common],
                    profile_dir / f"{day}-{task}.txt" if profile_dir else None,
                ),
                env,
            )
            for task in _tasks()
        }
        failed = [t for t, r in tasks.items() if not r["ok"]]
        return {"tasks": tasks, "failed": failed, "outcome": tasks["report"].get("outcome")}
    if via == "dag":
        return _timed_child(
            _profiled(
                [*me, "dag-night", *common], profile_dir / f"{day}-dag.txt" if profile_dir else None
            ),
            env,
        )
    canonical = workdir / "bench" / f"canonical-{day}.parquet"
    extracted = _timed_child(
        [sys.executable, "-m", "devtools", "canonical", "--data", str(workdir / "sample")]
        + ["--out", str(canonical)],
        env,
    )
    matched = _timed_child(
        [str(Path(sys.executable).with_name("golden-record")), "match", "--input", str(canonical)]
        + ["--output-dir", str(workdir / "data" / "cli"), "--run-key", day.isoformat()]
        + (["--model", env["GOLDEN_RECORD_MODEL"]] if "GOLDEN_RECORD_MODEL" in env else []),
        env,
    )
    return {"extract": extracted, "match": matched}


def _databases(workdir: Path) -> dict[str, dict[str, str]]:
    """Every table of the golden store and the CRM, digested (see ``night_faults``)."""
    return {
        name: table_digests(workdir / "data" / f"{name}.db") for name in ("golden_store", "crm")
    }


def _fault_outcome(workdir: Path, day: date, before: dict[str, dict[str, str]]) -> dict:
    """Whether the sources gate refused the faulted night and every table of the store
    and the CRM is as it was before it (the tables that changed are named)."""
    from golden_record.quality import read_gate_result
    from golden_record.run import Run

    gate = read_gate_result(Run.of(day.isoformat(), root=workdir / "data"), "sources")
    after = _databases(workdir)
    changed = {
        name: sorted(
            t for t in {*before[name], *after[name]} if before[name].get(t) != after[name].get(t)
        )
        for name in before
    }
    return {
        "what": "the libraries' drop holds half its borrowers",
        "sources_gate_refused": gate is not None and not gate.passed,
        "refused_checks": [f"{c.batch}: {c.expectation}" for c in gate.refused]
        if gate is not None
        else [],
        "changed_tables": changed,
        "nothing_changed": not any(changed.values()),
    }


def _rights(workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Each rights command on one resident of the last night, as an officer runs them."""
    from golden_record.golden import GoldenStore, default_store_url

    data = workdir / "data"
    store_url = default_store_url(data)
    golden = GoldenStore(store_url).golden_records()
    several = golden[golden["source_record_count"] > 1]
    golden_id = str((several if len(several) else golden)["golden_id"].iloc[0])
    cli = str(Path(sys.executable).with_name("golden-record"))
    who = ["--by", "bench", "--basis", "UK GDPR Art. 15, benchmark", "--store", store_url]
    crm = ["--crm", f"sqlite:///{data / 'crm.db'}", "--data", str(data)]
    out = workdir / "bench" / "rights"
    steps = {
        "sar": [cli, "rights", "sar", "--golden-id", golden_id, *who, *crm, "--out", str(out)],
        "correct": [cli, "rights", "correct", golden_id, "--field", "email"]
        + ["--value", "corrected@example.org", "--reason", "bench", *who, "--data", str(data)],
        "restrict": [cli, "rights", "restrict", golden_id, "--reason", "bench", *who, *crm],
        "lift-restriction": [cli, "rights", "lift-restriction", golden_id, "--reason", "bench"]
        + [*who, *crm],
        "erase": [cli, "rights", "erase", golden_id, "--reason", "bench", "--yes", *who, *crm]
        + ["--out", str(out)],
    }
    return {name: _timed_child(args, env) for name, args in steps.items()}


def _table(nights: dict[str, dict], via: str) -> str:
    days = list(nights)
    if via == "tasks":
        head = "| task | " + " | ".join(f"night {d}: s / peak MB" for d in days) + " |"
        lines = [head, "|---|" + "---|" * len(days)]
        for task in _tasks():
            cells = [
                f"{n['tasks'][task]['seconds']} / {n['tasks'][task]['peak_mb']:,.0f}"
                + ("" if n["tasks"][task]["ok"] else " (failed)")
                for n in nights.values()
            ]
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
        totals = [sum(t["seconds"] for t in n["tasks"].values()) for n in nights.values()]
        lines.append("| all tasks | " + " | ".join(f"{t:.1f} s" for t in totals) + " |")
        return "\n".join(lines)
    if via == "dag":
        tasks = sorted({t for n in nights.values() for t in n.get("tasks", {})})
        lines = [
            "| task | "
            + " | ".join(f"{d}: s / process's resident peak MB (at the task's start)" for d in days)
            + " |",
            "|---|" + "---|" * len(days),
        ]
        for task in tasks:
            cells = []
            for n in nights.values():
                found = n.get("tasks", {}).get(task, {})
                peak = found.get("resident_peak_mb")
                start = found.get("resident_at_start_mb")
                cells.append(
                    f"{found.get('seconds', '')}"
                    + (f" / {peak:,}" if peak else "")
                    + (f" (from {start:,})" if start else "")
                )
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
        lines.append(
            "| night (wall s / peak MB) | "
            + " | ".join(
                f"{n['seconds']} / {n['peak_mb']:,.0f} ({n.get('state')})" for n in nights.values()
            )
            + " |"
        )
        return "\n".join(lines)
    lines = ["| night | extract (s / MB) | match --store (s / MB) |", "|---|---|---|"]
    for day, n in nights.items():
        lines.append(
            f"| {day} | {n['extract']['seconds']} / {n['extract']['peak_mb']:,.0f} | "
            f"{n['match']['seconds']} / {n['match']['peak_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command", nargs="?", default="nights", choices=("nights", "task", "dag-night")
    )
    parser.add_argument("task", nargs="?", default=None)
    parser.add_argument("--people", type=int, default=520_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--first", type=date.fromisoformat, default=date(2026, 11, 2))
    parser.add_argument("--via", choices=("tasks", "dag", "cli"), default="tasks")
    parser.add_argument("--model", type=Path, default=None, help="default: the packaged model")
    parser.add_argument(
        "--train", action="store_true", help="no model given: the first night trains one"
    )
    parser.add_argument("--rights", action="store_true")
    parser.add_argument("--date", type=date.fromisoformat, default=None)
    parser.add_argument("--portal-url", default=None)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="carry on this workdir's nights: a night it holds accepted is not run again",
    )
    parser.add_argument(
        "--fault-night",
        type=int,
        default=None,
        help="before this night (2 for the second) the libraries' drop loses half its "
        "borrowers: the night must be refused and change nothing, and the next (the drop "
        "whole again) publish (devtools.benchmarks.night_faults)",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="each task under py-spy, its stacks to DIR/DATE-TASK.txt (--via tasks), or the "
        "night's one process to DIR/DATE-dag.txt (--via dag)",
    )
    args = parser.parse_args(argv)
    if args.fault_night is not None and args.via == "tasks":
        # Each task here runs whatever the one before it did: a refused gate does not stop
        # the tasks after it, as the DAG's dependencies do, so the fault's check of an
        # unchanged store and CRM would fail on the bench, not on the pipeline.
        parser.error("--fault-night needs the DAG's dependencies: use --via dag")
    workdir = args.workdir.resolve()
    if args.command in ("task", "dag-night"):
        found = (
            run_task(args.task, args.date, workdir, args.portal_url)
            if args.command == "task"
            else run_dag_night(args.date, workdir, args.portal_url)
        )
        print(json.dumps({**found, "peak_mb": round(own_peak_mb(), 1)}))
        return 0

    from devtools.benchmarks.source_edits import edit_sources
    from devtools.generate import generate
    from devtools.generate.portal_api import running_portal
    from golden_record.run import Run

    sample = workdir / "sample"
    manifest = sample / "manifest.json"
    wanted = {"people": args.people, "seed": args.seed}
    made = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if {k: made.get(k) for k in wanted} != wanted:
        started = time.perf_counter()
        generate(args.people, args.seed, sample, as_of=args.first)
        print(f"generated {args.people:,} people in {time.perf_counter() - started:.0f} s")
    token = secrets.token_urlsafe(24)
    env = {**_child_env(workdir, args.model, args.train), TOKEN_VARIABLE: token}
    nights: dict[str, dict] = {}
    whole_drop: Path | None = None
    with running_portal(sample / "portal" / "customers.jsonl", token) as portal:
        for n in range(args.nights):
            day = args.first + timedelta(days=n)
            if (
                args.resume
                and Run.of(day.isoformat(), root=workdir / "data").accepted_mark.is_file()
            ):
                print(f"night {day}: accepted in this workdir already, not run again")
                continue
            if n:
                stamp = f"{day - timedelta(days=1)} 12:00:00"
                edited = edit_sources(sample, stamp, offset=n - 1, prefix=f"e{n:03d}")
                print(f"changed at source before {day}: {edited}")
            before = None
            if args.fault_night == n + 1:
                whole_drop = halve_library_drop(sample, day)
                before = _databases(workdir)
                print(f"before {day}: the libraries' drop holds half its borrowers")
            elif whole_drop is not None:
                restore_library_drop(sample, day, whole_drop)
                whole_drop = None
                print(f"before {day}: the libraries' drop is whole again")
            started = time.perf_counter()
            night = _night(args.via, day, workdir, portal.base_url, env, args.profile_dir)
            print(f"night {day} via {args.via}: {time.perf_counter() - started:.0f} s")
            if before is not None:
                night["fault"] = _fault_outcome(workdir, day, before)
                print(f"night {day}, the fault's outcome: {night['fault']}")
            nights[day.isoformat()] = night
    figures: dict[str, Any] = {"via": args.via, "people": args.people, "nights": nights}
    if args.rights:
        figures["rights"] = _rights(workdir, env)
    (workdir / "bench").mkdir(parents=True, exist_ok=True)
    (workdir / "bench" / "nights.json").write_text(json.dumps(figures, indent=1, default=str))
    print()
    print(_table(nights, args.via))
    if args.rights:
        print("\n| rights command | wall (s) | peak (MB) |\n|---|---|---|")
        for name, r in figures["rights"].items():
            print(
                f"| {name} | {r['seconds']} | {r['peak_mb']:,.0f}{'' if r['ok'] else ' (failed)'} |"
            )
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    print(f"\nmachine: {os.cpu_count()} cores, {memory_gb:.0f} GB RAM")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
