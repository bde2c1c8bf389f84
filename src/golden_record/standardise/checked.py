"""One value a person typed (an officer's correction, a resident's details in a lookup),
checked and put in the form the pipeline standardises its field to, or refused naming
the field and what was expected: never silently dropped."""

from __future__ import annotations

from typing import Any

import pandas as pd

# What each checked field expects, in the words the refusal uses.
EXPECTED = {
    "email": "an email address such as name@example.com",
    "phone": "a UK or international phone number",
    "date_of_birth": "a date such as 1980-02-03 or 03/02/1980, not in the future",
    "postcode": "a UK postcode such as AB1 2CD",
    "ni_number": "a National Insurance number such as QQ123456C",
    "uprn": "a UPRN of up to 12 digits",
}
TITLE_CASED = ("title", "first_name", "middle_names", "surname", "town")


class InvalidValue(ValueError):
    """A value that is not a valid one of its field (the message names both)."""


def standard_form(field: str, value: str) -> str:
    """``value`` as the pipeline standardises ``field``; :class:`InvalidValue` if it is
    not a valid one. Fields with no rule are only trimmed (names title-cased)."""
    from golden_record.standardise import fields

    text = value.strip()
    if not text:
        raise InvalidValue(f"{field} is empty: give a value")
    if field in TITLE_CASED:
        return text.title()
    if field not in EXPECTED:
        return text
    one = pd.Series([text], dtype="string")
    checked: Any
    if field == "email":
        checked = fields.email(one).iloc[0]
    elif field == "phone":
        checked = fields.phone(one).iloc[0]
    elif field == "date_of_birth":
        checked = fields.date_of_birth(one).iloc[0]
    elif field == "postcode":
        spaced, valid = fields.postcode(one)
        checked = spaced.iloc[0] if bool(valid.iloc[0]) else None
    elif field == "ni_number":
        checked = fields.ni_number(one).iloc[0]
    else:
        checked = fields.uprn(one).iloc[0]
    if checked is None or pd.isna(checked):
        raise InvalidValue(f"{value!r} is not a valid {field}: expected {EXPECTED[field]}")
    return str(checked)
