"""Synthetic council data: six source systems in their native shapes, plus ground truth.

``generate(people=N, seed=S, out=DIR)`` builds a population of households, renders it into
revenues (SQLite), housing (SQLite), waste (CSV drop), portal (JSON for the local API),
parking (SQLite, loaded into PostgreSQL by the tests and compose) and libraries (CSV drop)
with the documented error model (``docs/generator.md``), and writes the ground truth that
maps every source record to its true person. Output is deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.progress import Progress

from devtools.generate.errors import ErrorModel
from devtools.generate.pools import build_pools, name_scale, streets_for
from devtools.generate.population import PopulationBuilder
from devtools.generate.render import Renderer
from devtools.generate.render_parking_libraries import ParkingLibrariesRenderer
from devtools.generate.write import write_sources, write_truth
from golden_record.atomic import write_text

DEFAULT_AS_OF = date(2026, 11, 1)

__all__ = ["DEFAULT_AS_OF", "ErrorModel", "GeneratedData", "generate"]


@dataclass(frozen=True)
class GeneratedData:
    out: Path
    people: int
    households: int
    records: dict[str, int]
    paths: dict[str, Path]
    # Records a system holds that are no person, which its declaration leaves out
    # (parking's business permit holders).
    not_persons: dict[str, int]

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def person_records(self) -> int:
        """The records the declared extracts read: every one but ``not_persons``."""
        return self.total_records - sum(self.not_persons.values())


def generate(
    people: int,
    seed: int,
    out: Path,
    errors: ErrorModel | None = None,
    as_of: date = DEFAULT_AS_OF,
    show_progress: bool = False,
) -> GeneratedData:
    if people < 1:
        raise ValueError("people must be at least 1")
    errors = errors or ErrorModel()
    rng = random.Random(seed)
    pools = build_pools(seed, streets=streets_for(people), names=name_scale(people))
    builder = PopulationBuilder(pools, errors, rng, as_of)
    renderer = Renderer(errors, rng, as_of, title_rng=random.Random(f"{seed}-titles"))
    # Parking and libraries came later: streams of their own keep the four older systems'
    # records of a seed as they were.
    later = ParkingLibrariesRenderer(
        errors,
        random.Random(f"{seed}-parking-libraries"),
        as_of,
        title_rng=random.Random(f"{seed}-parking-libraries-titles"),
        out=renderer.out,
        hard_cases=builder.hard_cases,
    )

    households = 0
    with Progress(disable=not show_progress, transient=True) as progress:
        task = progress.add_task("people", total=people)
        made = 0
        while made < people:
            household = builder.household()
            households += 1
            made += len(household.members)
            renderer.revenues(household)
            renderer.housing(household)
            renderer.waste(household)
            renderer.portal(household)
            later.parking(household)
            later.libraries(household)
            progress.update(task, completed=min(made, people))

    rendered = renderer.out
    out = Path(out)
    paths = write_sources(out, rendered, as_of)
    paths |= write_truth(out, rendered, builder.hard_cases)
    records = {
        "revenues": len(rendered.ctax_parties),
        "housing": len(rendered.tenancy_people),
        "waste": len(rendered.waste_contacts),
        "portal": len(rendered.portal_customers),
        "parking": len(rendered.parking_holders),
        "libraries": len(rendered.library_borrowers),
    }
    businesses = sum(h["holder_type"] == "BUSINESS" for h in rendered.parking_holders)
    not_persons = {"parking": businesses}
    manifest = {
        "seed": seed,
        "people": made,
        "households": households,
        "as_of": as_of.isoformat(),
        "records": records,
        "not_persons": not_persons,
        "error_model": errors.to_dict(),
    }
    write_text(json.dumps(manifest, indent=2) + "\n", out / "manifest.json")
    return GeneratedData(
        out=out,
        people=made,
        households=households,
        records=records,
        paths=paths,
        not_persons=not_persons,
    )
