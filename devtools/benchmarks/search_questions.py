"""Questions for the search targets (issue 34): residents asked for with exact details,
by name and postcode alone, or with one typing slip in each field, and whether the
answer puts them first. Shared by ``tests/test_search.py`` (the test council) and
``make bench``'s lookup step (a million records), so both ask the same kinds of question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pandas as pd

QUESTION_KINDS = ("name and postcode", "exact details", "one slip in each field")
ASKED = ("first_name", "surname", "date_of_birth", "postcode")


def slip(text: str, rng: random.Random) -> str:
    """One typing slip anywhere, the first letter included: two neighbouring characters
    swapped, one dropped, doubled or replaced."""
    if len(text) < 3:
        return text + text[-1]
    i = rng.randrange(0, len(text) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]


def _iso(text: str) -> str | None:
    """A date of birth as a source holds it (ISO or day first), as ISO."""
    from golden_record.extract.canonical import parsed_dates

    parsed = parsed_dates(pd.Series([text], dtype="string")).iloc[0]
    return None if pd.isna(parsed) else parsed.strftime("%Y-%m-%d")


def slipped_date(text: str, rng: random.Random) -> str:
    """A date of birth with one slip: day and month swapped, or one digit of the day."""
    iso = _iso(text)
    if iso is None:
        return text
    year, month, day = iso.split("-")
    if int(day) <= 12 and rng.random() < 0.5:
        return f"{year}-{day}-{month}"
    wrong = (int(day) % 28) + 1
    return f"{year}-{month}-{wrong:02d}"


def asked(kind: str, residents: Sequence[dict[str, str]], rng: random.Random) -> list[dict]:
    """Each resident's details (``ASKED``, as a source holds them) as a question of
    ``kind``."""
    if kind == "name and postcode":
        return [{k: d[k] for k in ("first_name", "surname", "postcode")} for d in residents]
    if kind == "exact details":
        return [dict(d) for d in residents]
    if kind == "one slip in each field":
        return [
            {
                "first_name": slip(d["first_name"], rng),
                "surname": slip(d["surname"], rng),
                "postcode": slip(d["postcode"], rng),
                "date_of_birth": slipped_date(d["date_of_birth"], rng),
            }
            for d in residents
        ]
    raise ValueError(f"no question kind {kind!r}: one of {', '.join(QUESTION_KINDS)}")


def first_or_tied(found: Sequence[Any], golden_id: str) -> bool:
    """Whether ``golden_id`` is at the top of an answer: the best, or tied with it at the
    very same weight (two golden records that agree equally with every detail asked, as
    two people of one name at one postcode do, cannot be told apart by those details)."""
    if not found:
        return False
    return golden_id in {c.golden_id for c in found if c.match_weight == found[0].match_weight}
