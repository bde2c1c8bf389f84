"""Render the true population into each source system's own native records.

Each renderer returns rows in that system's shape (not the canonical one) plus the
ground-truth rows linking every source record to its true person.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from devtools.generate import corrupt
from devtools.generate.errors import ErrorModel
from devtools.generate.population import Address, Household, Person


@dataclass
class Rendered:
    ctax_accounts: list[dict] = field(default_factory=list)
    ctax_parties: list[dict] = field(default_factory=list)
    tenancies: list[dict] = field(default_factory=list)
    tenancy_people: list[dict] = field(default_factory=list)
    waste_contacts: list[dict] = field(default_factory=list)
    portal_customers: list[dict] = field(default_factory=list)
    parking_holders: list[dict] = field(default_factory=list)
    parking_permits: list[dict] = field(default_factory=list)
    library_borrowers: list[dict] = field(default_factory=list)
    truth: list[tuple[str, str, str, str]] = field(default_factory=list)


class Renderer:
    def __init__(
        self,
        errors: ErrorModel,
        rng: random.Random,
        as_of: date,
        title_rng: random.Random,
    ):
        self.e = errors
        self.rng = rng
        # Title slips draw from a stream of their own, so that adding them (a later error
        # kind) left every other person and record of a seed as it was.
        self.title_rng = title_rng
        self.as_of = as_of
        self.out = Rendered()
        self._ids = {"CT": 0, "CTP": 0, "T": 0, "HP": 0, "W": 0}

    def _next(self, prefix: str) -> str:
        self._ids[prefix] += 1
        return f"{prefix}{self._ids[prefix]:08d}"

    def _timestamp(self) -> str:
        moment = datetime.combine(self.as_of, datetime.min.time()) - timedelta(
            seconds=self.rng.randrange(86_400, 3 * 365 * 86_400)
        )
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def _chance(self, rate: float) -> bool:
        return self.rng.random() < rate

    # -- shared field noise -------------------------------------------------------------

    def _first_name(self, person: Person, nickname_rate: float) -> str:
        name = person.first_name
        if self._chance(nickname_rate):
            name = corrupt.nickname(name, self.rng)
        if self._chance(self.e.typo_first_name):
            name = corrupt.typo(name, self.rng)
        return name

    def _surname(self, person: Person, old_record: bool) -> str:
        name = person.surname
        if person.previous_surname and self._chance(
            self.e.maiden_surname * (1.6 if old_record else 1.0)
        ):
            name = person.previous_surname
        if self._chance(self.e.typo_surname):
            name = corrupt.typo(name, self.rng)
        return name

    def _title(self, person: Person) -> str:
        if person.title != "Dr" and self.title_rng.random() < self.e.title_other_sex:
            return "Mrs" if person.title == "Mr" else "Mr"
        return person.title

    def _middle(self, person: Person) -> str | None:
        return None if self._chance(self.e.middle_name_dropped) else person.middle_names

    def _dob(self, person: Person, missing_rate: float) -> date | None:
        if self._chance(missing_rate):
            return None
        if self._chance(self.e.placeholder_value):
            return corrupt.PLACEHOLDER_DOB
        if self._chance(self.e.dob_day_month_swapped):
            return corrupt.swap_day_month(person.date_of_birth)
        return person.date_of_birth

    def _postcode(self, address: Address) -> str:
        if self._chance(self.e.postcode_invalid):
            return corrupt.invalid_postcode(address.postcode, self.rng)
        if self._chance(self.e.postcode_format_variant):
            return corrupt.postcode_variant(address.postcode, self.rng)
        return address.postcode

    def _phone(self, person: Person) -> str | None:
        if self._chance(self.e.phone_missing):
            return None
        if self._chance(self.e.placeholder_value):
            return self.rng.choice(corrupt.PLACEHOLDER_PHONES)
        number = person.landline if person.landline and self._chance(0.3) else person.mobile
        return corrupt.phone_variant(number, self.rng)

    def _email(self, person: Person, required: bool = False) -> str | None:
        if not required and self._chance(self.e.email_missing):
            return None
        if self._chance(self.e.placeholder_value) and not required:
            return self.rng.choice(corrupt.PLACEHOLDER_EMAILS)
        email = person.email
        if self._chance(self.e.email_upper_case):
            email = email.title() if self.rng.random() < 0.5 else email.upper()
        return email

    def _address_for(self, person: Person) -> tuple[Address, bool]:
        """The address a non-property-keyed system holds: sometimes the stale previous one."""
        if person.previous_address is not None and self._chance(self.e.stale_address):
            return person.previous_address, True
        return person.address, False

    # -- revenues -----------------------------------------------------------------------

    def revenues(self, household: Household) -> None:
        adults = household.members
        if self._chance(self.e.household_in_revenues):
            self._ctax_account(household.address, self._liable(adults), old=False)
        if household.previous_address is not None and self._chance(
            self.e.moved_keeps_old_revenues_account
        ):
            self._ctax_account(household.previous_address, self._liable(adults), old=True)

    def _liable(self, adults: list[Person]) -> list[Person]:
        liable = [adults[0]]
        for other in adults[1:]:
            if self._chance(0.75 if len(liable) == 1 else 0.2):
                liable.append(other)
        return liable

    def _ctax_account(self, address: Address, liable: list[Person], old: bool) -> None:
        account_ref = self._next("CT")
        start = self.as_of - timedelta(days=self.rng.randrange(400, 9000))
        end = self.as_of - timedelta(days=self.rng.randrange(30, 390)) if old else None
        given = [address.flat, f"{address.number} {address.street}", address.locality]
        lines: list[str | None] = [*(line for line in given if line), address.town]
        lines += [None] * (4 - len(lines))
        self.out.ctax_accounts.append(
            {
                "account_ref": account_ref,
                "property_uprn": address.uprn if self._chance(0.97) else None,
                "addr_1": lines[0],
                "addr_2": lines[1],
                "addr_3": lines[2],
                "addr_4": lines[3],
                "postcode": self._postcode(address),
                "liability_start": start.isoformat(),
                "liability_end": end.isoformat() if end else None,
                "last_modified": self._timestamp(),
            }
        )
        for person in liable:
            party_id = self._next("CTP")
            dob = self._dob(person, self.e.dob_missing_revenues)
            title = self._title(person)
            self.out.ctax_parties.append(
                {
                    "party_id": party_id,
                    "account_ref": account_ref,
                    "title": title.upper() if self._chance(0.5) else title,
                    "forename": self._first_name(person, self.e.nickname).upper(),
                    "middle_name": (self._middle(person) or "").upper() or None,
                    "surname": self._surname(person, old).upper(),
                    "dob": dob.isoformat() if dob else None,
                    "email": self._email(person),
                    "telephone": self._phone(person),
                    "last_modified": self._timestamp(),
                }
            )
            self.out.truth.append(("revenues", party_id, person.person_id, person.household_id))

    # -- housing ------------------------------------------------------------------------

    def housing(self, household: Household) -> None:
        if not self._chance(self.e.household_in_housing):
            return
        address = household.address
        tenancy_ref = self._next("T")
        number = f"{address.flat}, {address.number}" if address.flat else address.number
        self.out.tenancies.append(
            {
                "tenancy_ref": tenancy_ref,
                "uprn": address.uprn,
                "house_no": number,
                "street": address.street,
                "locality": address.locality,
                "town": address.town.upper(),
                "post_code": self._postcode(address),
                "tenancy_start": (
                    self.as_of - timedelta(days=self.rng.randrange(100, 9000))
                ).isoformat(),
                "updated": self._timestamp(),
            }
        )
        for index, person in enumerate(household.members):
            person_ref = self._next("HP")
            role = "lead tenant" if index == 0 else ("joint tenant" if index == 1 else "member")
            middle = self._middle(person)
            first = self._first_name(person, self.e.nickname)
            dob = self._dob(person, self.e.dob_missing_housing)
            self.out.tenancy_people.append(
                {
                    "person_ref": person_ref,
                    "tenancy_ref": tenancy_ref,
                    "role": role,
                    "title": self._title(person),
                    "given_names": f"{first} {middle}" if middle else first,
                    "family_name": self._surname(person, old_record=False),
                    "date_of_birth": dob.strftime("%d/%m/%Y") if dob else None,
                    "ni_no": None if self._chance(self.e.ni_missing_housing) else person.ni_number,
                    "mobile": self._phone(person),
                    "home_phone": person.landline,
                    "email_address": self._email(person),
                    "updated": self._timestamp(),
                }
            )
            self.out.truth.append(("housing", person_ref, person.person_id, person.household_id))

    # -- waste --------------------------------------------------------------------------

    def waste(self, household: Household) -> None:
        if self._chance(self.e.household_in_waste):
            self._waste_contact(household.address, household.members[0], old=False)
        if household.previous_address is not None and self._chance(
            self.e.moved_keeps_old_waste_contact
        ):
            self._waste_contact(household.previous_address, household.members[0], old=True)

    def _waste_contact(self, address: Address, person: Person, old: bool) -> None:
        contact_id = self._next("W")
        first = self._first_name(person, self.e.nickname)
        surname = self._surname(person, old)
        style = self.rng.randrange(4)
        title = self._title(person)
        contact_name = (
            f"{title} {first[0]} {surname}",
            f"{title} {first} {surname}",
            f"{first} {surname}",
            f"{surname}, {first}",
        )[style]
        parts = [address.flat, f"{address.number} {address.street}", address.locality, address.town]
        self.out.waste_contacts.append(
            {
                "CONTACT_ID": contact_id,
                "UPRN": address.uprn,
                "PROPERTY_ADDRESS": ", ".join(p for p in parts if p),
                "POSTCODE": self._postcode(address),
                "CONTACT_NAME": contact_name,
                "CONTACT_TEL": self._phone(person) or "",
                "CONTACT_EMAIL": self._email(person) or "",
                "SERVICE": self.rng.choice(("GARDEN", "BULKY", "ASSISTED", "CLINICAL")),
                "LAST_UPDATED": self._timestamp(),
            }
        )
        self.out.truth.append(("waste", contact_id, person.person_id, person.household_id))

    # -- portal -------------------------------------------------------------------------

    def portal(self, household: Household) -> None:
        for person in household.members:
            if not self._chance(self.e.adult_in_portal):
                continue
            self._portal_account(person, person.email)
            if self._chance(self.e.portal_duplicate_account):
                local, _, domain = person.email.partition("@")
                self._portal_account(person, f"{local}{self.rng.randrange(1, 99)}@{domain}")

    def _portal_account(self, person: Person, email: str) -> None:
        customer_id = f"{self.rng.getrandbits(64):016x}"
        address, _ = self._address_for(person)
        dob = self._dob(person, self.e.dob_missing_portal)
        first = self._first_name(person, self.e.nickname_portal)
        line1 = f"{address.number} {address.street}"
        if address.flat:
            line1 = f"{address.flat}, {line1}"
        record = {
            "id": customer_id,
            "email": email.upper() if self._chance(self.e.email_upper_case) else email,
            "name": {
                "given": first.lower() if self._chance(0.1) else first,
                "family": self._surname(person, old_record=False),
            },
            "dateOfBirth": dob.strftime("%d/%m/%Y") if dob else None,
            "phone": self._phone(person),
            "address": {
                "line1": line1,
                "line2": address.locality,
                "city": address.town,
                "postcode": self._postcode(address),
                "uprn": address.uprn if self._chance(0.5) else None,
            },
            "updatedAt": self._timestamp().replace(" ", "T") + "Z",
        }
        self.out.portal_customers.append(record)
        self.out.truth.append(("portal", customer_id, person.person_id, person.household_id))
