"""The true population: households at addresses, and the people living in them.

This is the ground truth the source systems are rendered from. Households carry the hard
cases that must never merge: spouses sharing surname, address, phone or email; twins;
a parent and child with the same full name.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from devtools.generate.errors import ErrorModel
from devtools.generate.pools import (
    EMAIL_DOMAINS,
    Pools,
    inward_code,
    landline_number,
    mobile_number,
    ni_number,
)


@dataclass(slots=True)
class Address:
    uprn: str
    flat: str | None
    number: str
    street: str
    locality: str | None
    town: str
    postcode: str


@dataclass(slots=True)
class Person:
    person_id: str
    household_id: str
    sex: str
    title: str
    first_name: str
    middle_names: str | None
    surname: str
    previous_surname: str | None
    date_of_birth: date
    email: str
    mobile: str
    ni_number: str
    address: Address
    previous_address: Address | None
    landline: str | None


@dataclass(slots=True)
class Household:
    household_id: str
    address: Address
    previous_address: Address | None
    members: list[Person] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HardCase:
    person_a: str
    person_b: str
    relation: str  # spouses | twins | parent_child_same_name | flatmates


class AddressBook:
    """Hands out distinct addresses, each with a never-reused UPRN."""

    def __init__(self, pools: Pools, rng: random.Random):
        self._pools = pools
        self._rng = rng
        self._next_uprn = 100_000_000_000 + rng.randrange(1_000_000)
        # Each street lies in one town and one postcode district, as in real gazetteers.
        self._street_places = {
            street: (rng.choice(pools.towns), rng.choice(pools.outward_codes))
            for street in pools.streets
        }

    def new(self) -> Address:
        rng = self._rng
        street = rng.choice(self._pools.streets)
        town, outward = self._street_places[street]
        self._next_uprn += rng.randrange(1, 40)
        return Address(
            uprn=str(self._next_uprn),
            flat=f"Flat {rng.randrange(1, 30)}" if rng.random() < 0.15 else None,
            number=str(rng.randrange(1, 240)),
            street=street,
            locality=rng.choice(self._pools.localities) if rng.random() < 0.25 else None,
            town=town,
            postcode=f"{outward} {inward_code(rng)}",
        )


class PopulationBuilder:
    def __init__(self, pools: Pools, errors: ErrorModel, rng: random.Random, as_of: date):
        self.pools = pools
        self.errors = errors
        self.rng = rng
        self.as_of = as_of
        self.addresses = AddressBook(pools, rng)
        self.hard_cases: list[HardCase] = []
        self._people = 0
        self._households = 0
        self._emails: set[str] = set()

    # -- people -------------------------------------------------------------------------

    def _surname(self) -> str:
        return self.rng.choices(self.pools.surnames, self.pools.surname_weights)[0]

    def _forename(self, sex: str) -> str:
        return self.rng.choice(self.pools.male_first if sex == "M" else self.pools.female_first)

    def _dob(self, min_age: int, max_age: int) -> date:
        days = self.rng.randrange(min_age * 365 + 1, max_age * 365)
        return self.as_of - timedelta(days=days)

    def _email(self, first: str, surname: str) -> str:
        rng = self.rng
        while True:
            style = rng.randrange(4)
            local = (
                (
                    f"{first}.{surname}",
                    f"{first[0]}{surname}",
                    f"{first}{surname}{rng.randrange(1, 99)}",
                    f"{surname}.{first}{rng.randrange(1950, 2005)}",
                )[style]
                .lower()
                .replace("'", "")
                .replace(" ", "")
            )
            email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
            if email not in self._emails:
                self._emails.add(email)
                return email

    def _title(self, sex: str, married: bool) -> str:
        if self.rng.random() < 0.02:
            return "Dr"
        if sex == "M":
            return "Mr"
        return "Mrs" if married else self.rng.choice(("Miss", "Ms"))

    def person(
        self,
        household: Household,
        sex: str,
        dob: date,
        surname: str,
        *,
        first_name: str | None = None,
        previous_surname: str | None = None,
        married: bool = False,
    ) -> Person:
        rng = self.rng
        self._people += 1
        first = first_name or self._forename(sex)
        middle = self._forename(sex) if rng.random() < 0.6 else None
        person = Person(
            person_id=f"P{self._people:08d}",
            household_id=household.household_id,
            sex=sex,
            title=self._title(sex, married),
            first_name=first,
            middle_names=middle,
            surname=surname,
            previous_surname=previous_surname,
            date_of_birth=dob,
            email=self._email(first, surname),
            mobile=mobile_number(rng),
            ni_number=ni_number(rng),
            address=household.address,
            previous_address=household.previous_address,
            landline=None,
        )
        household.members.append(person)
        return person

    # -- households ---------------------------------------------------------------------

    def household(self) -> Household:
        rng, e = self.rng, self.errors
        self._households += 1
        moved = rng.random() < e.household_moved
        household = Household(
            household_id=f"H{self._households:08d}",
            address=self.addresses.new(),
            previous_address=self.addresses.new() if moved else None,
        )
        kind = rng.random()
        if kind < e.household_single:
            sex = rng.choice("MF")
            self.person(household, sex, self._dob(18, 95), self._surname())
        elif kind < e.household_single + e.household_couple:
            self._couple(household, self._dob(20, 90))
        elif kind < e.household_single + e.household_couple + e.household_family:
            parents = self._couple(household, self._dob(40, 70))
            self._children(household, parents)
        elif kind < (
            e.household_single + e.household_couple + e.household_family + e.household_single_parent
        ):
            sex = rng.choice("MF")
            parent = self.person(household, sex, self._dob(38, 70), self._surname())
            self._children(household, [parent])
        else:
            self._flat_share(household)
        landline = landline_number(rng) if rng.random() < 0.35 else None
        for member in household.members:
            member.landline = landline
        return household

    def _couple(self, household: Household, dob_a: date) -> list[Person]:
        rng, e = self.rng, self.errors
        surname_a = self._surname()
        a = self.person(household, "M", dob_a, surname_a, married=True)
        dob_b = dob_a + timedelta(days=rng.randrange(-5 * 365, 5 * 365))
        dob_b = min(dob_b, self.as_of - timedelta(days=18 * 365 + 1))
        if rng.random() < e.couple_shares_surname:
            b = self.person(
                household, "F", dob_b, surname_a, previous_surname=self._surname(), married=True
            )
        else:
            b = self.person(household, "F", dob_b, self._surname(), married=True)
        if rng.random() < e.couple_shares_email:
            b.email = a.email
        self.hard_cases.append(HardCase(a.person_id, b.person_id, "spouses"))
        return [a, b]

    def _children(self, household: Household, parents: list[Person]) -> None:
        rng, e = self.rng, self.errors
        surname = parents[0].surname
        youngest_parent_age = min((self.as_of - p.date_of_birth).days for p in parents) // 365
        max_child_age = max(19, min(40, youngest_parent_age - 18))
        if rng.random() < e.family_has_twins:
            dob = self._dob(18, max_child_age)
            sex_a, sex_b = rng.choice("MF"), rng.choice("MF")
            a = self.person(household, sex_a, dob, surname)
            b = self.person(household, sex_b, dob, surname)
            while b.first_name == a.first_name:
                b.first_name = self._forename(sex_b)
            self.hard_cases.append(HardCase(a.person_id, b.person_id, "twins"))
        else:
            for _ in range(rng.randrange(1, 3)):
                self.person(household, rng.choice("MF"), self._dob(18, max_child_age), surname)
        father = next((p for p in parents if p.sex == "M"), None)
        if father is not None and rng.random() < e.family_has_junior:
            junior = self.person(
                household,
                "M",
                self._dob(18, max_child_age),
                surname,
                first_name=father.first_name,
            )
            junior.middle_names = father.middle_names if rng.random() < 0.5 else junior.middle_names
            self.hard_cases.append(
                HardCase(father.person_id, junior.person_id, "parent_child_same_name")
            )

    def _flat_share(self, household: Household) -> None:
        rng = self.rng
        for _ in range(rng.randrange(2, 4)):
            self.person(household, rng.choice("MF"), self._dob(18, 45), self._surname())
