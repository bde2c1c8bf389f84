"""A night's worth of changes at source in a generated council, for the nightly benchmarks.

About 0.45% of a million-record council: revenues emails changed (one party in 333) and
parties deleted (one in 997), housing emails changed (one person in 300) and tenancies
moved to another street (one in 310), portal accounts deleted (one in 1,000) and second
accounts of known customers signed up (one in 250). ``--offset`` picks other rows, so
successive nights change different records; ``--prefix`` keeps the new portal ids apart.

    python -m devtools.benchmarks.source_edits SAMPLE_DIR \
        --stamp "2026-11-02 12:00:00" --offset 0 --prefix eeee
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path


def edit_sources(sample: Path, stamp: str, offset: int = 0, prefix: str = "eeee") -> dict:
    """Apply the night's changes in place; return how many rows each source changed."""
    iso = stamp.replace(" ", "T") + "Z"
    changed: dict[str, int] = {}
    with sqlite3.connect(sample / "revenues.db") as revenues:
        revenues.execute(
            "UPDATE ctax_liable_party SET email = 'moved.' || party_id || '@example.org', "
            "last_modified = ? WHERE rowid % 333 = ?",
            (stamp, offset),
        )
        revenues.execute("DELETE FROM ctax_liable_party WHERE rowid % 997 = ?", (offset + 1,))
        changed["revenues"] = revenues.total_changes
    with sqlite3.connect(sample / "housing.db") as housing:
        housing.execute(
            "UPDATE tenancy_person SET email_address = lower(given_names) || '.' || "
            "person_ref || '@example.net', updated = ? WHERE rowid % 300 = ?",
            (stamp, offset),
        )
        housing.execute(
            "UPDATE tenancy SET street = 'Mill Lane', house_no = CAST(rowid % 200 AS TEXT), "
            "updated = ? WHERE rowid % 310 = ?",
            (stamp, offset),
        )
        changed["housing"] = housing.total_changes
    path = sample / "portal" / "customers.jsonl"
    customers = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    kept = [c for i, c in enumerate(customers) if i % 1000 != 7 + offset]
    again = [
        dict(c, id=f"{prefix}{i:012d}", email=f"second.{prefix}.{i}@example.org", updatedAt=iso)
        for i, c in enumerate(customers)
        if i % 250 == 3 + offset
    ]
    lines = [json.dumps(c) for c in [*kept, *again]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    changed["portal_deleted"] = len(customers) - len(kept)
    changed["portal_signed_up"] = len(again)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sample", type=Path)
    parser.add_argument("--stamp", required=True, help="the changes' time, YYYY-MM-DD HH:MM:SS")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--prefix", default="eeee")
    args = parser.parse_args(argv)
    print(json.dumps(edit_sources(args.sample, args.stamp, args.offset, args.prefix)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
