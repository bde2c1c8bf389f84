"""What each nightly stage returns: small frozen values, passed on as dicts (XCom).

A stage of :mod:`golden_record.pipeline` returns one of these; the Airflow task returns
its :meth:`~StageResult.to_dict` (what XCom carries and the run report reads), so a
stage's result has one shape wherever it is read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # An annotation only: the publishing module brings SQLAlchemy, which a task that
    # does not publish should not pay for at its start.
    from golden_record.publish.publishing import PublishSummary


class StageResult:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Standardised(StageResult):
    records: int
    by_source: dict[str, int]
    invalid_postcodes: int
    mode: str = "full"  # full | incremental (unchanged records' rows reused)
    records_standardised: int = 0
    why_full: str | None = None


@dataclass(frozen=True)
class Matched(StageResult):
    records: int
    clusters: int
    scored_pairs: int
    review_pairs: int
    largest_cluster: int
    model: str | None  # the model file pinned for the run
    model_trained_this_night: bool
    steward_decisions: int
    # "full", or "incremental" on an earlier night's pairs (see matching.incremental).
    scoring: str = "full"
    why_full: str | None = None
    records_rescored: int = 0  # new or changed records scored tonight (all, if full)
    # Link components the clustering answered as the earlier night had, not checked
    # again (matching.kept_components; none on a night scored in full).
    components_kept: int = 0
    # The review queue by golden record (matching.review_queue): items and the records
    # they hold.
    review_items: int = 0
    review_records: int = 0
    # Doubtful pairs decided without the queue: by the evidence (forename and date of birth
    # both conflict: matching.guard), and by the stewards' precedents
    # (matching.precedents), joined and kept apart.
    settled_by_evidence: int = 0
    settled_same: int = 0
    settled_different: int = 0
    # The model's scores against the stewards' decisions as labels
    # (matching.precedents.agreement_with_stewards).
    agreement_with_stewards: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GoldenBuilt(StageResult):
    golden_records: int
    previous_golden_records: int
    source_records: int
    events: dict[str, int]
    store: str  # the store's URL without its password
    reapplied_unchanged: bool
    # Staged: the store takes this night as its state only once the gate passes.
    store_status: str
    input_fingerprint: str
    # Source records of the clusters rebuilt tonight (the rest were left as they were),
    # and why every one was rebuilt when it was.
    records_rebuilt: int = 0
    why_all: str = ""
    # The night whose golden files these were patched from (None: read in full).
    files_patched_from: str | None = None


@dataclass(frozen=True)
class GatePassed(StageResult):
    gate: str
    passed: bool
    checks: int
    warnings: int
    data_docs: str | None
    accepted_by_steward: bool


@dataclass(frozen=True)
class Published(StageResult):
    summary: PublishSummary
    export: str | None = None  # the export folder; None when a later run had published

    @property
    def outcome(self) -> str:
        return self.summary.outcome

    @property
    def events(self) -> dict[str, int]:
        return self.summary.events

    def to_dict(self) -> dict[str, Any]:
        flat = asdict(self.summary)
        if self.export is not None:
            flat["export"] = self.export
        return flat


@dataclass(frozen=True)
class ReportWritten(StageResult):
    report_html: str
    report_json: str
    outcome: str  # published | stopped
    stopped: list[str] = field(default_factory=list)
