"""One nightly run: its key, its date, where its data lives, and every stage's files.

A :class:`Run` is built once per task (from Airflow's ``ds``, or by a command or a
test) and handed to the stages, so no stage rebuilds the file names of the stage before
it. Run data is partitioned by the run's key (its logical date, ``YYYY-MM-DD``), as
Airflow advises, so a rerun of a date reads and writes the same partition.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

RAW, CANONICAL, STANDARDISED, MATCH, GOLDEN, QUALITY = (
    "raw",
    "canonical",
    "standardised",
    "match",
    "golden",
    "quality",
)


class RunDateAhead(ValueError):
    """A night asked for a date later than tomorrow."""


def check_not_ahead(run_date: datetime.date, today: datetime.date | None = None) -> None:
    """Refuse a night dated later than tomorrow on this machine's calendar (its local
    time zone: a night run just after midnight UTC may be dated tomorrow in another
    zone). A night dated ahead would be the CRM's latest for years: every real night
    after it would be "superseded", and its source watermarks would pass every change."""
    today = today or datetime.date.today()
    tomorrow = today + datetime.timedelta(days=1)
    if run_date > tomorrow:
        raise RunDateAhead(
            f"run date {run_date.isoformat()} is later than tomorrow ({tomorrow.isoformat()} "
            "on this machine's calendar); a night is run for today or an earlier date. Nothing "
            "was written"
        )


@dataclass(frozen=True)
class StandardisedFiles:
    dir: Path

    @property
    def canonical(self) -> Path:
        """The night's canonical records, in the order and with the ``unique_id`` of
        :attr:`records`."""
        return self.dir / "canonical.parquet"

    @property
    def records(self) -> Path:
        return self.dir / "standardised.parquet"

    @property
    def hashes(self) -> Path:
        """Each canonical record's content hash (``unique_id``, ``canonical_hash``): what a
        later night compares its records with to standardise only what changed."""
        return self.dir / "hashes.parquet"

    @property
    def about(self) -> Path:
        """How the night was standardised: the code's digest, the date, full or on which
        earlier night."""
        return self.dir / "about.json"


@dataclass(frozen=True)
class MatchFiles:
    dir: Path

    @property
    def xref(self) -> Path:
        """``unique_id`` → ``cluster_id`` and the probability that put it there."""
        return self.dir / "xref.parquet"

    @property
    def scored_pairs(self) -> Path:
        return self.dir / "scored_pairs.parquet"

    @property
    def review_pairs(self) -> Path:
        return self.dir / "review_pairs.parquet"

    @property
    def review_queue(self) -> Path:
        """The review queue by golden record, one row per record of an item
        (:mod:`golden_record.matching.review_queue`)."""
        return self.dir / "review_queue.parquet"

    @property
    def settled_pairs(self) -> Path:
        """Doubtful pairs the stewards' precedents decided instead of the queue
        (:mod:`golden_record.matching.precedents`): which, how, and on how many decisions."""
        return self.dir / "settled_pairs.parquet"

    @property
    def scored_records(self) -> Path:
        """The records the night scored (``unique_id``, ``content_hash``): what a later
        night compares its records with to score only what changed."""
        return self.dir / "scored_records.parquet"

    @property
    def kept_components(self) -> Path:
        """The link components the night's clustering checked, by signature, and the
        answers of those that held a conflict: what a later night's clustering builds on
        (:mod:`golden_record.matching.kept_components`)."""
        return self.dir / "kept_components.parquet"

    @property
    def scoring(self) -> Path:
        """How the night's pairs were scored (in full or on an earlier night's), and
        what they depend on (model, threshold, blocking rules)."""
        return self.dir / "scoring.json"

    @property
    def model(self) -> Path:
        """The model pinned at the run's first match; a rerun matches with it."""
        return self.dir / "model.json"

    @property
    def model_source(self) -> Path:
        return self.dir / "model_source.json"


@dataclass(frozen=True)
class GoldenFiles:
    dir: Path

    @property
    def golden_records(self) -> Path:
        return self.dir / "golden_records.parquet"

    @property
    def xref(self) -> Path:
        """Source system and record id → golden ID: the CRM contract's cross-reference."""
        return self.dir / "xref.parquet"

    @property
    def events(self) -> Path:
        return self.dir / "events.parquet"

    @property
    def lineage(self) -> Path:
        return self.dir / "lineage.parquet"

    @property
    def summary(self) -> Path:
        return self.dir / "summary.json"

    @property
    def published(self) -> tuple[Path, ...]:
        """What publish reads: the golden gate fingerprints these, and publish checks
        they are the files that passed."""
        return (self.golden_records, self.xref, self.lineage)


def check_run_key(key: str) -> None:
    """Refuse a run key that cannot name a folder under runs/ (a date written with
    slashes, a path), saying how a night's key is written."""
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise ValueError(
            f"a run key names a folder under runs/ (a night's is its date, YYYY-MM-DD, "
            f"e.g. 2026-12-06), not {key!r}"
        )


@dataclass(frozen=True)
class Run:
    """A run of the nightly pipeline: ``key`` names its partition, ``date`` is the day
    its data is as of, ``root`` the data root holding ``runs/<key>/``."""

    key: str
    date: datetime.date
    root: Path

    @classmethod
    def of(cls, key: str, run_date: datetime.date | None = None, root: Path | None = None) -> Run:
        """The run keyed ``key`` (its date read from the key unless given), under
        ``root`` or the configured data root."""
        from golden_record import paths

        check_run_key(key)
        if run_date is None:
            try:
                run_date = datetime.date.fromisoformat(key[:10])
            except ValueError:
                raise ValueError(
                    f"run key {key!r} does not start with a date (YYYY-MM-DD); give the run's date"
                ) from None
        return cls(key, run_date, Path(root) if root is not None else paths.data_root())

    @classmethod
    def from_context(cls, ds: str | None, root: Path | None = None) -> Run:
        """The run of an Airflow task, from its logical date (``ds``); a date later than
        tomorrow is refused (:func:`check_not_ahead`) before anything is written."""
        if not ds:
            raise ValueError("this task needs the run's logical date (ds) to key its data")
        run_date = datetime.date.fromisoformat(ds)
        check_not_ahead(run_date)
        return cls.of(ds, run_date, root)

    def other(self, key: str) -> Run:
        """Another run under the same data root (a baseline, an earlier night). A run
        named, not dated (``golden-record match --run-key``), is taken as of this run's
        date."""
        try:
            return Run.of(key, root=self.root)
        except ValueError:
            return Run.of(key, self.date, self.root)

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def dir(self) -> Path:
        return self.runs_dir / self.key

    def raw(self, source: str) -> Path:
        return self.dir / RAW / f"{source}.parquet"

    def canonical(self, source: str) -> Path:
        return self.dir / CANONICAL / f"{source}.parquet"

    @property
    def standardised(self) -> StandardisedFiles:
        return StandardisedFiles(self.dir / STANDARDISED)

    @property
    def match(self) -> MatchFiles:
        return MatchFiles(self.dir / MATCH)

    @property
    def golden(self) -> GoldenFiles:
        return GoldenFiles(self.dir / GOLDEN)

    def quality(self, gate: str) -> Path:
        """The folder of one gate's outcome and Data Docs."""
        return self.dir / QUALITY / gate

    @property
    def report_html(self) -> Path:
        return self.dir / "report.html"

    @property
    def report_json(self) -> Path:
        return self.dir / "report.json"

    @property
    def earlier_reports(self) -> Path:
        """Reports of earlier runs of this date (a rerun writes its own, and keeps these):
        ``earlier_reports/<nn>/report.html`` and ``report.json``, oldest first."""
        return self.dir / "earlier_reports"

    @property
    def accepted_mark(self) -> Path:
        """Present once the night is accepted (see :mod:`golden_record.nights`)."""
        return self.dir / "accepted.json"
