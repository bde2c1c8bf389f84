"""Record-level corruption: the ways one true value turns up wrong in a source system."""

from __future__ import annotations

import random
import string
from datetime import date

from golden_record.standardise.nicknames import nicknames_of, uk_nicknames_of

PLACEHOLDER_EMAILS = ("test@test.com", "noemail@noemail.com", "none@none.com")
PLACEHOLDER_PHONES = ("07777777777", "00000000000", "01234567890")
PLACEHOLDER_TEXT = ("unknown", "n/a", "TBC")
PLACEHOLDER_DOB = date(1900, 1, 1)


def typo(value: str, rng: random.Random) -> str:
    """One keyboard slip: a swapped, dropped, doubled or replaced letter."""
    if len(value) < 3:
        return value
    i = rng.randrange(1, len(value) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if kind == 1:
        return value[:i] + value[i + 1 :]
    if kind == 2:
        return value[:i] + value[i] + value[i:]
    return value[:i] + rng.choice(string.ascii_lowercase) + value[i + 1 :]


def nickname(first_name: str, rng: random.Random) -> str:
    """A nickname people really use: the UK list first, else a same-initial form.

    The US genealogy list behind ``nicknames`` holds rare forms (Ronny for Cameron) that
    no council clerk would type, so only its forms sharing the initial are used.
    """
    key = first_name.lower()
    options = sorted(uk_nicknames_of(key)) or sorted(
        n for n in nicknames_of(key) if n[0] == key[0] and len(n) >= 3
    )
    if not options:
        return first_name
    return rng.choice(options).title()


def swap_day_month(value: date) -> date:
    if value.day > 12 or value.day == value.month:
        return value
    return value.replace(day=value.month, month=value.day)


def postcode_variant(postcode: str, rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return postcode.replace(" ", "")
    if kind == 1:
        return postcode.lower()
    return "  " + postcode.replace(" ", "  ")


def invalid_postcode(postcode: str, rng: random.Random) -> str:
    outward, _, inward = postcode.partition(" ")
    return f"{outward} {inward[:1]}{rng.choice('CIKMOV')}{inward[2:]}"


def phone_variant(national: str, rng: random.Random) -> str:
    """A UK number as staff or residents type it (``national`` is ``0``-prefixed digits)."""
    kind = rng.randrange(5)
    if kind == 0:
        return national
    if kind == 1:
        return f"{national[:5]} {national[5:]}"
    if kind == 2:
        return f"+44 {national[1:5]} {national[5:]}"
    if kind == 3:
        return f"({national[:5]}) {national[5:8]} {national[8:]}"
    return f"0044{national[1:]}"
