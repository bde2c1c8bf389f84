"""A resident's details as an officer types them ("Jane Smith, 03/02/1980, AB1 2CD,
jane@example.com") turned into the fields the lookup asks about.

Each piece is recognised by its shape: an email has an @, a date of birth is a date, a
postcode has the UK postcode's shape, a phone number has ten or more digits; what is left
is the name, its first word the forename and its last the surname.
"""

from __future__ import annotations

import re

from golden_record.extract.sources.text import TITLES
from golden_record.matching.lookup import LookupError_

_EMAIL = re.compile(r"[^\s,;]+@[^\s,;]+")
_DATE = re.compile(r"\b(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})\b")
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w@])\+?\d[\d\s()-]{8,}\d")


def parse_details(text: str) -> dict[str, str | None]:
    """The lookup's fields from ``text``; refused without a surname."""
    rest = text
    found: dict[str, str | None] = {}
    for name, pattern in (("email", _EMAIL), ("date_of_birth", _DATE)):
        match = pattern.search(rest)
        found[name] = match.group(0) if match else None
        if match:
            rest = rest[: match.start()] + " " + rest[match.end() :]
    phone = _PHONE.search(rest)
    if phone and len(re.sub(r"\D", "", phone.group(0))) >= 10:
        found["phone"] = phone.group(0).strip()
        rest = rest[: phone.start()] + " " + rest[phone.end() :]
    postcode = _POSTCODE.search(rest)
    if postcode:
        found["postcode"] = f"{postcode.group(1)} {postcode.group(2)}".upper()
        rest = rest[: postcode.start()] + " " + rest[postcode.end() :]
    words = [w for w in re.split(r"[\s,;]+", rest) if w and not w.isdigit()]
    while len(words) > 1 and words[0].lower().rstrip(".") in TITLES:
        words = words[1:]
    if not words:
        raise LookupError_(
            "no name in the details: give at least a surname, e.g. 'Jane Smith, 03/02/1980'"
        )
    found["surname"] = words[-1]
    found["first_name"] = words[0] if len(words) > 1 else None
    return found
