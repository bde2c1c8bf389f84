"""A second synthetic error profile, unlike the council generator: heavy typos, few households.

The council generator (:mod:`devtools.generate`) models four systems'
habits (council tax without dates of birth, housing with NI numbers, waste contacts by
initial) and the households that make matching hard. This profile models what public
labelled person data sets look like instead, and is never tuned on (``make
bench-accuracy`` reports it apart): canonical records written directly, every field
mistyped at high rates anywhere in the value, 15–20% of each field missing, dates of
birth slipped in any part, nicknames, forenames and surnames swapped, up to 20 records
per person, and only a few couples sharing an address. People come from Faker's
``en_GB`` provider.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from devtools.generate.pools import EMAIL_DOMAINS, mobile_number, ni_number
from golden_record.extract.canonical import CANONICAL_COLUMNS
from golden_record.standardise.nicknames import nicknames_of

SYSTEMS = ("revenues", "housing", "waste", "portal")
MISSING = {  # share of records missing each field
    "title": 0.20,
    "first_name": 0.15,
    "surname": 0.15,
    "date_of_birth": 0.18,
    "email": 0.20,
    "phone": 0.20,
    "address_line_1": 0.17,
    "town": 0.15,
    "postcode": 0.17,
    "ni_number": 0.20,
}
TYPO = {  # chance of one slip per record; a second slip follows at a quarter of it
    "first_name": 0.20,
    "surname": 0.20,
    "email": 0.15,
    "phone": 0.08,
    "address_line_1": 0.15,
    "town": 0.12,
    "postcode": 0.10,
    "ni_number": 0.08,
}
NICKNAME = 0.10
NAMES_SWAPPED = 0.05
DOB_SLIP = 0.20
STALE_ADDRESS = 0.10
COUPLES = 0.06  # share of people living with a partner
MAX_RECORDS = 20


@dataclass
class _Person:
    person_id: str
    sex: str
    title: str
    first_name: str
    surname: str
    date_of_birth: date
    email: str
    phone: str
    address: tuple[str, str, str]  # line 1, town, postcode
    previous: tuple[str, str, str]
    ni_number: str


def slip(value: str, rng: random.Random) -> str:
    """One keyboard slip anywhere in the value, the first character included."""
    if len(value) < 2:
        return value
    i = rng.randrange(len(value))
    kind = rng.randrange(4)
    pool = string.digits if value[i].isdigit() else string.ascii_lowercase
    if kind == 0 and i < len(value) - 1:
        return value[:i] + value[i + 1] + value[i] + value[i + 2 :]
    if kind == 1:
        return value[:i] + value[i + 1 :]
    if kind == 2:
        return value[:i] + rng.choice(pool) + value[i:]
    return value[:i] + rng.choice(pool) + value[i + 1 :]


def slipped_date(value: date, rng: random.Random) -> date:
    """A date of birth wrong in any part: a day or month off, a year off by one or ten,
    day and month swapped, or (rarely) another date altogether."""
    kind = rng.randrange(6)
    try:
        if kind == 0:
            return value + timedelta(days=rng.choice((-3, -2, -1, 1, 2, 3)))
        if kind == 1:
            return value.replace(month=max(1, min(12, value.month + rng.choice((-1, 1)))))
        if kind == 2:
            return value.replace(year=value.year + rng.choice((-1, 1)))
        if kind == 3:
            return value.replace(year=value.year + rng.choice((-10, 10)))
        if kind == 4 and value.day <= 12:
            return value.replace(day=value.month, month=value.day)
    except ValueError:
        return value
    return value + timedelta(days=rng.randrange(-4000, 4000))


def _person(
    fake, rng: random.Random, number: int, emails: set[str], address=None, surname=None
) -> _Person:
    sex = rng.choice("MF")
    first = fake.first_name_male() if sex == "M" else fake.first_name_female()
    last = surname or fake.last_name()
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(78 * 365))
    user = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}{rng.randrange(10, 99)}")
    ).lower()
    domain = rng.choice(EMAIL_DOMAINS)
    email = f"{user}@{domain}"
    while email in emails:  # a provider gives an address to one person only
        email = f"{user}{rng.randrange(1, 1000)}@{domain}"
    emails.add(email)

    def place():
        return (fake.street_address().split("\n")[0], fake.city(), fake.postcode())

    return _Person(
        person_id=f"T{number:07d}",
        sex=sex,
        title=rng.choice(("Mr",) if sex == "M" else ("Mrs", "Miss", "Ms")),
        first_name=first,
        surname=last,
        date_of_birth=born,
        email=email,
        phone=mobile_number(rng),
        address=address or place(),
        previous=place(),
        ni_number=ni_number(rng),
    )


def _record(person: _Person, rng: random.Random, number: int) -> dict:
    first, last = person.first_name, person.surname
    if rng.random() < NICKNAME:
        forms = sorted(nicknames_of(first))
        first = rng.choice(forms).title() if forms else first
    if rng.random() < NAMES_SWAPPED:
        first, last = last, first
    line_1, town, postcode = person.previous if rng.random() < STALE_ADDRESS else person.address
    dob = person.date_of_birth
    if rng.random() < DOB_SLIP:
        dob = slipped_date(dob, rng)
    values: dict[str, str | None] = {
        "title": person.title,
        "first_name": first.lower(),
        "surname": last.lower(),
        "date_of_birth": dob.isoformat(),
        "email": person.email,
        "phone": person.phone,
        "address_line_1": line_1.lower(),
        "town": town.lower(),
        "postcode": postcode.lower(),
        "ni_number": person.ni_number.lower(),
    }
    for field, rate in TYPO.items():
        text = values[field]
        if text is not None and rng.random() < rate:
            text = slip(text, rng)
            if rng.random() < 0.25:
                text = slip(text, rng)
            values[field] = text
    for field, rate in MISSING.items():
        if rng.random() < rate:
            values[field] = None
    return {
        "source_system": rng.choice(SYSTEMS),
        "source_record_id": f"R{number:08d}",
        **values,
        "source_updated_at": "2026-01-01T00:00:00",
    }


def typo_profile(people: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(canonical records, ground truth, hard cases) for ``people`` people."""
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    persons: list[_Person] = []
    hard = []
    emails: set[str] = set()
    while len(persons) < people:
        person = _person(fake, rng, len(persons), emails)
        persons.append(person)
        if rng.random() < COUPLES and len(persons) < people:
            surname = person.surname if rng.random() < 0.7 else None
            partner = _person(
                fake, rng, len(persons), emails, address=person.address, surname=surname
            )
            partner.phone = person.phone if rng.random() < 0.3 else partner.phone
            persons.append(partner)
            hard.append((person.person_id, partner.person_id, "spouses"))
    records: list[dict] = []
    truth: list[tuple[str, str, str]] = []
    for person in persons:
        count = min(MAX_RECORDS, 1 + int(rng.expovariate(1 / 3)))
        for _ in range(count):
            record = _record(person, rng, len(records))
            records.append(record)
            truth.append((record["source_system"], record["source_record_id"], person.person_id))
    canonical = pd.DataFrame(records).reindex(columns=list(CANONICAL_COLUMNS)).astype("string")
    return (
        canonical,
        pd.DataFrame(truth, columns=["source_system", "source_record_id", "person_id"]),
        pd.DataFrame(hard, columns=["person_a", "person_b", "relation"]),
    )
