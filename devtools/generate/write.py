"""Write rendered source data to where each system keeps it.

Revenues, housing and parking become SQLite databases built from the DDL in
``sql/sources`` (parking's DDL also builds it in PostgreSQL: ``devtools.generate.to_postgres``);
waste and libraries become nightly CSV drops; the portal becomes JSON Lines that the local
portal API serves. The ground truth and the hard cases go to ``truth/``.
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


LIBRARY_COLUMNS = (
    "CARD_NUMBER",
    "BORROWER_CATEGORY",
    "TITLE",
    "SURNAME",
    "FORENAMES",
    "DATE_OF_BIRTH",
    "ADDRESS_1",
    "ADDRESS_2",
    "ADDRESS_3",
    "POSTCODE",
    "EMAIL",
    "HOME_BRANCH",
    "REGISTERED",
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


def library_drop_name(as_of: date) -> str:
    return f"library_borrowers_{as_of:%Y%m%d}.csv"


def _write_drop(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)

    write_atomically(path, write)
    # Written after the file, as a council's export job would: the drop is whole.
    write_text(f"rows={len(rows)}\n", path.with_name(path.name + ".done"))


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

    parking = out / "parking.db"
    _write_sqlite(
        parking,
        "parking_schema.sql",
        {"permit_holder": rendered.parking_holders, "permit": rendered.parking_permits},
    )
    waste_drop = out / "waste" / "drop"
    _write_drop(waste_drop / waste_drop_name(as_of), WASTE_COLUMNS, rendered.waste_contacts)
    library_drop = out / "libraries" / "drop"
    _write_drop(
        library_drop / library_drop_name(as_of), LIBRARY_COLUMNS, rendered.library_borrowers
    )

    portal = out / "portal" / "customers.jsonl"
    write_text(
        "".join(
            json.dumps(record, separators=(",", ":")) + "\n" for record in rendered.portal_customers
        ),
        portal,
    )
    return {
        "revenues": revenues,
        "housing": housing,
        "waste": waste_drop,
        "portal": portal,
        "parking": parking,
        "libraries": library_drop,
    }


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
