"""Write rendered source data to where each system keeps it.

Revenues and housing become SQLite databases built from the DDL in ``sql/sources``; waste
becomes a nightly CSV drop; the portal becomes JSON Lines that the local portal API
serves. The ground truth and the hard cases go to ``truth/``.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd

from devtools.generate.population import HardCase
from devtools.generate.render import Rendered
from golden_record.atomic import write_atomically, write_text
from golden_record.paths import SQL_DIR

WASTE_COLUMNS = (
    "CONTACT_ID",
    "UPRN",
    "PROPERTY_ADDRESS",
    "POSTCODE",
    "CONTACT_NAME",
    "CONTACT_TEL",
    "CONTACT_EMAIL",
    "SERVICE",
    "LAST_UPDATED",
)


def _write_sqlite(path: Path, schema: str, tables: dict[str, list[dict]]) -> None:
    def build(tmp: Path) -> None:
        with sqlite3.connect(tmp) as connection:
            connection.executescript((SQL_DIR / "sources" / schema).read_text())
            for table, rows in tables.items():
                if not rows:
                    continue
                columns = list(rows[0])
                placeholders = ", ".join(f":{c}" for c in columns)
                connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
                )
        connection.close()

    write_atomically(path, build)


def waste_drop_name(as_of: date) -> str:
    return f"waste_contacts_{as_of:%Y%m%d}.csv"


def write_sources(out: Path, rendered: Rendered, as_of: date) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    revenues = out / "revenues.db"
    _write_sqlite(
        revenues,
        "revenues_schema.sql",
        {"ctax_account": rendered.ctax_accounts, "ctax_liable_party": rendered.ctax_parties},
    )
    housing = out / "housing.db"
    _write_sqlite(
        housing,
        "housing_schema.sql",
        {"tenancy": rendered.tenancies, "tenancy_person": rendered.tenancy_people},
    )

    waste_drop = out / "waste" / "drop"
    waste_file = waste_drop / waste_drop_name(as_of)

    def write_waste(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=WASTE_COLUMNS)
            writer.writeheader()
            writer.writerows(rendered.waste_contacts)

    write_atomically(waste_file, write_waste)
    # Written after the file, as a council's export job would: the drop is whole.
    write_text(
        f"rows={len(rendered.waste_contacts)}\n", waste_file.with_name(waste_file.name + ".done")
    )

    portal = out / "portal" / "customers.jsonl"
    write_text(
        "".join(
            json.dumps(record, separators=(",", ":")) + "\n" for record in rendered.portal_customers
        ),
        portal,
    )
    return {"revenues": revenues, "housing": housing, "waste": waste_drop, "portal": portal}


def write_truth(out: Path, rendered: Rendered, hard_cases: list[HardCase]) -> dict[str, Path]:
    truth_dir = out / "truth"
    truth = pd.DataFrame(
        rendered.truth, columns=["source_system", "source_record_id", "person_id", "household_id"]
    )
    truth_path = truth_dir / "ground_truth.csv"
    write_atomically(truth_path, lambda tmp: truth.to_csv(tmp, index=False))
    cases = pd.DataFrame(
        [(c.person_a, c.person_b, c.relation) for c in hard_cases],
        columns=["person_a", "person_b", "relation"],
    )
    cases_path = truth_dir / "hard_cases.csv"
    write_atomically(cases_path, lambda tmp: cases.to_csv(tmp, index=False))
    return {"ground_truth": truth_path, "hard_cases": cases_path}
