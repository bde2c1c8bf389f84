"""The record of processing activities (UK GDPR Art. 30) for what this pipeline does,
written from the source declarations and the privacy notice, never by hand.

One row per source system (its purpose, lawful basis, owner, categories of data and how
long what is landed from it is kept, as ``sources.toml`` declares them) and one for the
golden customer record built from them all, with the ICO's template's columns, so the
information-governance officer pastes the CSV into the council's own record or reads the
Markdown. It changes when a declaration changes, which is the point: a new system cannot
join the golden record without its entry here.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from golden_record.extract.declaration import SourceDeclarations, declared_sources
from golden_record.rights.letter import Notice, load_notice

# The ICO's record of processing template's columns (controller sheet), in its order.
COLUMNS = (
    "Business function",
    "Purpose of processing",
    "Name and contact details of controller",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Retention schedule",
    "Lawful basis for processing",
    "Source of the data",
)
_INDIVIDUALS = "Residents and others the service holds records about"
_MEASURES_NOTE = (
    "Landed extracts older than a system's retention are deleted each night (the golden "
    "store keeps what identity needs)"
)


def rows(declarations: SourceDeclarations, notice: Notice) -> list[dict[str, str]]:
    """The record's rows: each declared system, then the golden customer record."""
    controller = (
        f"{notice.texts['controller']}; {notice.texts['contact']}; DPO: "
        + (notice.texts["data_protection_officer"])
    )
    recipients = "; ".join(notice.lists["recipients"])
    out = []
    for source in declarations.sources:
        out.append(
            {
                "Business function": f"{notice.system(source.name)} ({source.data_owner})",
                "Purpose of processing": source.purpose,
                "Name and contact details of controller": controller,
                "Categories of individuals": _INDIVIDUALS,
                "Categories of personal data": ", ".join(source.categories) or "not declared",
                "Categories of recipients": recipients,
                "Retention schedule": (
                    f"Extracts landed by the golden record pipeline: {source.retention_days} "
                    f"days. {_MEASURES_NOTE}."
                ),
                "Lawful basis for processing": source.lawful_basis,
                "Source of the data": f"{source.name} system ({source.kind}, connection "
                f"{source.connection})",
            }
        )
    categories = sorted({c for s in declarations.sources for c in s.categories})
    out.append(
        {
            "Business function": "Golden customer record (customer services)",
            "Purpose of processing": "; ".join(notice.lists["purposes"]),
            "Name and contact details of controller": controller,
            "Categories of individuals": _INDIVIDUALS,
            "Categories of personal data": ", ".join(categories),
            "Categories of recipients": recipients,
            "Retention schedule": notice.texts["retention"],
            "Lawful basis for processing": notice.texts["lawful_basis"],
            "Source of the data": "the systems above: " + ", ".join(declarations.names),
        }
    )
    return out


def write(out: Path, sources: Path | None = None, notice: Path | None = None) -> list[Path]:
    """Write ``processing_record.csv`` and ``processing_record.md`` into ``out``."""
    declarations, loaded = declared_sources(sources), load_notice(notice)
    found = rows(declarations, loaded)
    out.mkdir(parents=True, exist_ok=True)
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(found)
    csv_file = out / "processing_record.csv"
    csv_file.write_text(table.getvalue(), encoding="utf-8")
    lines = [
        "# Record of processing activities (UK GDPR Art. 30)",
        "",
        f"From {declarations.path} and {loaded.path}"
        + (
            " (the packaged privacy notice: put in the council's own words)"
            if loaded.placeholder
            else ""
        )
        + ".",
    ]
    for row in found:
        lines += ["", f"## {row['Business function']}", ""]
        lines += [f"- **{column}**: {row[column]}" for column in COLUMNS[1:]]
    markdown_file = out / "processing_record.md"
    markdown_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [csv_file, markdown_file]
