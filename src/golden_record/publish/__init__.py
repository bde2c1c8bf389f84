"""Publishing golden records to the CRM: its versioned contract (``sql/crm/``),
write-audit-publish in one transaction with a change feed, and per-run file exports."""

from golden_record.publish.contract import LATEST_VERSION, ContractError, migrate
from golden_record.publish.export import ExportError, export_run, exports_root
from golden_record.publish.publishing import PublishError, PublishSummary, publish

__all__ = [
    "LATEST_VERSION",
    "ContractError",
    "ExportError",
    "PublishError",
    "PublishSummary",
    "export_run",
    "exports_root",
    "migrate",
    "publish",
]
