"""Gather what a run did from its files and write ``report.html`` and ``report.json``.

The page is for information-governance officers reading it each morning: headline
figures, the quality dimensions per source, match statistics, changes since the last
run, the review queue, each gate with a link to its Data Docs, and trends over recent
runs. It holds counts and shares only, never a resident's details. ``report.json`` keeps
the same facts for machines and for later runs' trends.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from golden_record.atomic import write_text
from golden_record.extract.declaration import source_systems
from golden_record.reporting import charts
from golden_record.run import Run

if TYPE_CHECKING:
    from golden_record.matching.inference import Thresholds

DIMENSIONS = ("completeness", "uniqueness", "validity", "consistency", "timeliness", "accuracy")
TREND_RUNS = 30


@dataclass
class RunFacts:
    run_key: str
    run_id: str | None
    outcome: str  # "published" | "stopped" | "superseded" (checked, a later run is published)
    stopped_because: list[str]
    sources: list[dict]
    records_in: int | None
    golden_records: int | None
    duplicate_rate: float | None  # share of source records that joined another's record
    changes: dict
    review_pairs: int | None
    review_reasons: dict
    review_queue: int | None
    gates: list[dict]
    dimensions: dict  # batch group → dimension → {"passed", "total", "status"}
    published: dict | None
    trends: list[dict] = field(default_factory=list)
    model: dict | None = None  # the model the run matched with, and whether trained tonight
    scoring: dict | None = None  # match/scoring.json: in full, or on an earlier night's pairs
    rebuilt: dict | None = None  # golden records rebuilt: records_rebuilt, why_all
    # Residents' rights: requests by kind, restricted, corrections in force, suppressed.
    rights: dict | None = None
    # What retention deleted tonight (golden_record.retention.Retained), if it ran.
    retention: dict | None = None
    # The review queue by golden record (matching.review_queue): items, records they hold.
    review_items: int | None = None
    review_records: int | None = None
    settled_by_evidence: int | None = None
    settled_same: int | None = None
    settled_different: int | None = None
    agreement_with_stewards: dict | None = None
    # Stewards' decisions in force that the night applied over the model's scores.
    steward_decisions: int | None = None
    # When the run started (ISO, UTC) and how long it had taken when the report was written.
    started_at: str | None = None
    took_seconds: float | None = None


def _read_json(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _gate_facts(run: Run) -> tuple[list[dict], dict]:
    from golden_record.quality import read_gate_result
    from golden_record.quality.batches import BATCHES_OF_GATE

    gates: list[dict[str, Any]] = []
    dimensions: dict[str, dict[str, dict[str, Any]]] = {}
    for name in BATCHES_OF_GATE:
        result = read_gate_result(run, name)
        if result is None:
            gates.append({"gate": name, "status": "not run", "data_docs": None})
            continue
        gates.append(
            {
                "gate": name,
                "status": "passed" if result.passed else "failed",
                "headline": result.headline(),
                "checks": len(result.checks),
                "critical_failures": [asdict(c) for c in result.critical_failures],
                "warnings": [asdict(c) for c in result.warnings],
                "error": result.error,
                "data_docs": result.data_docs,
            }
        )
        for check in result.checks:
            group = check.source or check.batch
            cell = dimensions.setdefault(group, {}).setdefault(
                check.dimension, {"passed": 0, "total": 0, "status": "ok"}
            )
            cell["total"] += 1
            cell["passed"] += int(check.success)
            if not check.success:
                critical = check.severity == "critical" or cell["status"] == "fail"
                cell["status"] = "fail" if critical else "warn"
    return gates, dimensions


def _trends(run: Run) -> list[dict]:
    runs = run.runs_dir
    earlier = sorted(p.name for p in runs.iterdir() if p.name < run.key) if runs.is_dir() else []
    rows = []
    for key in earlier[-(TREND_RUNS - 1) :]:
        body = _read_json(run.other(key).report_json)
        if body:
            rows.append(_trend_row(body))
    return rows


def _trend_row(facts: dict) -> dict:
    warnings = sum(len(g.get("warnings") or []) for g in facts["gates"])
    critical = sum(len(g.get("critical_failures") or []) for g in facts["gates"])
    return {
        "run": facts["run_key"],
        "records in": facts["records_in"],
        "golden records": facts["golden_records"],
        "duplicate rate": facts["duplicate_rate"],
        "review pairs": facts["review_pairs"],
        "warnings": warnings,
        "critical failures": critical,
    }


def gather(
    run: Run,
    stage_results: dict,
    run_id: str | None = None,
    review_queue: int | None = None,
    rights: dict | None = None,
    started_at: datetime | None = None,
) -> RunFacts:
    """Facts of a run from its files and the stages' results (None for a stage that did
    not finish)."""
    extracts = stage_results.get("extract") or {}
    sources = []
    for source in source_systems():
        summary = extracts.get(source) or {}
        sources.append(
            {
                "source": source,
                "mode": summary.get("mode"),
                "raw_rows": summary.get("raw_rows"),
                "canonical_rows": summary.get("canonical_rows"),
                "deleted_rows": summary.get("deleted_rows"),
                "future_birth_dates": summary.get("future_birth_dates") or [],
                "future_birth_date_count": summary.get("future_birth_date_count") or 0,
                "future_stamped": summary.get("future_stamped") or [],
                "future_stamped_count": summary.get("future_stamped_count") or 0,
                "watermark_reset": summary.get("watermark_reset"),
                "quarantined": summary.get("quarantined") or [],
                "quarantined_count": summary.get("quarantined_count") or 0,
                "extracted": bool(summary),
            }
        )
    golden = _read_json(run.golden.summary) if stage_results.get("golden") else None
    records_in = golden["source_records"] if golden else None
    golden_count = golden["golden_records"] if golden else None
    review_file = run.match.review_pairs
    reasons = {}
    review_pairs = None
    if stage_results.get("match") and review_file.is_file():
        review = pd.read_parquet(review_file, columns=["reason"])
        review_pairs = len(review)
        reasons = {str(k): int(v) for k, v in review["reason"].value_counts().items()}
    gates, dimensions = _gate_facts(run)
    stopped = [str(g["headline"]) for g in gates if g["status"] == "failed"]
    missing = [str(s["source"]) for s in sources if not s["extracted"]]
    if missing and not stopped:
        stopped.append(
            f"the extract of {', '.join(missing)} did not finish (see the extract_"
            f"{missing[0]} task's log in Airflow)"
        )
    for stage in ("gate_sources", "standardise", "match", "golden", "gate_golden"):
        if not stage_results.get(stage) and not stopped:
            stopped.append(f"stage {stage} did not finish (see its log in Airflow)")
    published = stage_results.get("publish")
    if not published and not stopped:
        stopped.append("publish did not finish (see its log in Airflow)")
    outcome = "published" if published and not stopped else "stopped"
    if published and not stopped and published.get("outcome") == "superseded":
        # Checked and not written: the CRM still shows a later run. Nights after a run
        # dated ahead by mistake land here until that run is undone.
        outcome = "superseded"
        stopped.append(
            f"not written to the CRM: run {published.get('superseded_by')}, a later one, is "
            "already published; if that run was a mistake, undo it (golden-record night undo "
            f"{published.get('superseded_by')}) and run this night again"
        )
    return RunFacts(
        run_key=run.key,
        run_id=run_id,
        outcome=outcome,
        stopped_because=stopped,
        sources=sources,
        records_in=records_in,
        golden_records=golden_count,
        duplicate_rate=(1 - golden_count / records_in) if records_in else None,
        changes=(golden or {}).get("events") or {},
        review_pairs=review_pairs,
        review_reasons=reasons,
        review_queue=review_queue,
        gates=gates,
        dimensions=dimensions,
        published=published or None,
        trends=_trends(run),
        model=_read_json(run.match.model_source),
        scoring=_read_json(run.match.scoring) if stage_results.get("match") else None,
        rebuilt=(
            {"records": golden.get("records_rebuilt", 0), "why_all": golden.get("why_all", "")}
            if golden
            else None
        ),
        review_items=(stage_results.get("match") or {}).get("review_items"),
        review_records=(stage_results.get("match") or {}).get("review_records"),
        settled_by_evidence=(stage_results.get("match") or {}).get("settled_by_evidence"),
        settled_same=(stage_results.get("match") or {}).get("settled_same"),
        settled_different=(stage_results.get("match") or {}).get("settled_different"),
        agreement_with_stewards=(stage_results.get("match") or {}).get("agreement_with_stewards"),
        steward_decisions=(stage_results.get("match") or {}).get("steward_decisions"),
        started_at=started_at.astimezone(UTC).isoformat() if started_at else None,
        took_seconds=(
            round((datetime.now(UTC) - started_at).total_seconds(), 1) if started_at else None
        ),
        retention=stage_results.get("retain"),
        rights=(
            {
                **rights,
                "suppressed_tonight": sum(
                    int((e or {}).get("suppressed_rows") or 0) for e in extracts.values()
                ),
            }
            if rights is not None
            else None
        ),
    )


def _weight(probability: float) -> float:
    return math.log2(probability / (1 - probability))


def _charts(facts: RunFacts, run: Run, thresholds: Thresholds) -> dict:
    drawn: dict[str, str | None] = {"cluster_sizes": None, "match_weights": None, "trends": None}
    golden_file = run.golden.golden_records
    if facts.golden_records is not None and golden_file.is_file():
        sizes = pd.read_parquet(golden_file, columns=["source_record_count"])
        drawn["cluster_sizes"] = charts.cluster_sizes(sizes["source_record_count"])
    pairs_file = run.match.scored_pairs
    if facts.review_pairs is not None and pairs_file.is_file():
        weights = pd.read_parquet(pairs_file, columns=["match_weight"])["match_weight"]
        drawn["match_weights"] = charts.match_weights(
            weights, _weight(thresholds.auto_match), _weight(thresholds.review)
        )
    history = pd.DataFrame([*facts.trends, _trend_row(asdict(facts))])
    if not history.empty:
        drawn["trends"] = charts.trends(
            history[["run", "records in", "golden records", "duplicate rate", "warnings"]]
        )
    return drawn


def _another_run(written: dict, facts: RunFacts) -> bool:
    """Whether the report on disk was written by another run of the date (another DAG
    run, or the same one cleared and run again: it starts afresh), not by this run's
    report written again (a retried task)."""
    return (written.get("run_id"), written.get("started_at")) != (facts.run_id, facts.started_at)


def _keep(run: Run) -> None:
    """Move the date's current report to the next ``earlier_reports/<nn>/``."""
    import shutil

    kept = run.earlier_reports
    taken = [int(p.name) for p in kept.glob("[0-9]*") if p.name.isdigit()] if kept.is_dir() else []
    folder = kept / f"{max(taken, default=0) + 1:02d}"
    building = kept / f".{folder.name}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for written in (run.report_html, run.report_json):
        if written.is_file():
            shutil.copy2(written, building / written.name)
    building.replace(folder)


def _kept(run: Run) -> list[dict]:
    """The earlier reports of the date, oldest first: where, when they started, their
    Airflow run and outcome."""
    kept = run.earlier_reports
    found = []
    for folder in sorted(kept.glob("[0-9]*")) if kept.is_dir() else []:
        try:
            about = _read_json(folder / "report.json") or {}
        except ValueError:
            about = {}
        found.append(
            {
                "href": f"{kept.name}/{folder.name}/report.html",
                "started_at": about.get("started_at"),
                "run_id": about.get("run_id"),
                "outcome": about.get("outcome"),
            }
        )
    return found


def _people_time(iso: str) -> str:
    """``2026-11-03T02:00:13+00:00`` → ``02:00 UTC on 3 November 2026``."""
    moment = datetime.fromisoformat(iso)
    return f"{moment:%H:%M} UTC on {moment.day} {moment:%B %Y}"


def _duration(seconds: float) -> str:
    """``252.4`` → ``4 min 12 s``; ``7300`` → ``2 h 1 min``."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


# The pipeline's reasons for a full night, in the words an officer reads them in.
_PLAIN_REASONS = {
    "no earlier accepted night to build on": (
        "the first night the pipeline has run, or every night before it stopped at a gate"
    ),
    "the pairs were scored in full": "every pair of records was compared afresh",
}


def _plainly(reason: str) -> str:
    for said, plain in _PLAIN_REASONS.items():
        reason = reason.replace(said, plain)
    return reason


def write_report(facts: RunFacts, run: Run) -> dict:
    """Write ``runs/<run>/report.html`` and ``report.json``; return their paths."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from golden_record.matching.inference import Thresholds

    thresholds = Thresholds()
    env = Environment(
        loader=PackageLoader("golden_record.reporting", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        earlier = _read_json(run.report_json) or {}
    except ValueError:  # a report half written by an older version: start afresh
        earlier = {}
    # Another run of this date wrote the report there: it is kept, not replaced.
    if earlier and _another_run(earlier, facts):
        _keep(run)
    env.filters["people_time"] = _people_time
    env.filters["duration"] = _duration
    env.filters["plainly"] = _plainly
    html = env.get_template("run_report.html").render(
        kept=_kept(run),
        facts=facts,
        dimensions=DIMENSIONS,
        charts=_charts(facts, run, thresholds),
        thresholds=thresholds,
    )
    facts_json = asdict(facts)
    # Every DAG run of this date that wrote the report (a rerun, a backfill): the Airflow
    # UI's "Run report" tab of each of them finds it.
    seen = [str(i) for i in earlier.get("dag_run_ids") or [] if i]
    if facts.run_id and facts.run_id not in seen:
        seen.append(facts.run_id)
    facts_json["dag_run_ids"] = seen
    json_path = write_text(json.dumps(facts_json, indent=2, default=str) + "\n", run.report_json)
    html_path = write_text(html, run.report_html)
    return {"report_html": str(html_path), "report_json": str(json_path)}
