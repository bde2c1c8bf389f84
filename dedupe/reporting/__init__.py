"""The run report for information-governance officers: one offline HTML page per run."""

from dedupe.reporting.run_report import RunFacts, gather, write_report

__all__ = ["RunFacts", "gather", "write_report"]
