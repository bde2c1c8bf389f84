"""The run report for information-governance officers: one offline HTML page per run."""

from golden_record.reporting.run_report import RunFacts, gather, write_report

__all__ = ["RunFacts", "gather", "write_report"]
