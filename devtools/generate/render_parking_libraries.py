"""Render the population into the parking permits system and the libraries' borrowers.

Both draw from a random stream of their own (``Renderer`` with another ``rng``), so that
adding them left every record of the four older systems of a seed as it was.

Their quirks, each a way real records of these systems mislead matching:

* **Parking** (a permits database): a holder has several permits and vehicles; a second
  holder account for a second vehicle; a permit in a **company's name** at a resident's
  home with the resident's mobile (a sole trader's van), which is not a person and must
  not be merged into one; a **stale address**: a mover's old holder account, its permits
  expired, still in the system.
* **Libraries** (a nightly borrowers export): **children**, who no other system holds,
  with their date of birth (a junior card records it) and often their parent's email (one
  **household sharing a library card email**); a second card for a lost one; adults'
  dates of birth mostly not held; a mover's old address.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

from devtools.generate.population import Address, HardCase, Household, Person
from devtools.generate.render import Rendered, Renderer

TRADES = ("Plumbing", "Building Services", "Electrical", "Decorators", "Cleaning", "Gardens")
BRANCHES = ("Central", "North", "Riverside", "Eastfield", "Mobile Library")
# Children's names of the last fifteen years (ONS's most given), for junior borrowers.
BOYS = ("Oliver", "Noah", "George", "Leo", "Arthur", "Harry", "Jack", "Theo", "Muhammad")
GIRLS = ("Olivia", "Amelia", "Isla", "Lily", "Freya", "Ava", "Ivy", "Florence", "Sophia")
_VRM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"


def zone_of(address: Address) -> str:
    """The controlled parking zone a street lies in: one per street, as on the ground."""
    return f"CPZ {'ABCDEFGHJKLMNPQR'[zlib.crc32(address.street.encode()) % 16]}"


def one_line(address: Address) -> str:
    line = f"{address.number} {address.street}"
    return f"{address.flat}, {line}" if address.flat else line


class ParkingLibrariesRenderer(Renderer):
    """Parking holders and permits, and library borrowers, into ``self.out``; the children
    libraries add are new people (in the truth, and their must-never-merge pairs in
    ``hard_cases``)."""

    def __init__(self, *args, out: Rendered, hard_cases: list[HardCase], **kwargs):
        super().__init__(*args, **kwargs)
        self.out = out  # the older systems' renderer's: one truth, one set of outputs
        self.hard_cases = hard_cases
        self._ids.update({"PH": 0, "RP": 0, "C": 0})
        self._next_card = 21_234_000_000_000

    def _date_between(self, earliest_days_ago: int, latest_days_ago: int) -> date:
        return self.as_of - timedelta(days=self.rng.randrange(latest_days_ago, earliest_days_ago))

    # -- parking ------------------------------------------------------------------------

    def parking(self, household: Household) -> None:
        e = self.e
        if self._chance(e.household_in_parking):
            holders = [household.members[0]]
            if len(household.members) > 1 and self._chance(0.35):
                holders.append(household.members[1])
            for person in holders:
                holder_id = self._holder(person, household.address)
                self._permits(holder_id, household.address, expired=False)
                if self._chance(e.parking_second_holder_account):
                    # Applied again online for a second vehicle, as a new account.
                    second = self._holder(person, household.address)
                    self._permits(second, household.address, expired=False)
            if self._chance(e.parking_business_permit):
                self._business_holder(household)
        if household.previous_address is not None and self._chance(
            e.moved_keeps_old_parking_account
        ):
            person = household.members[0]
            holder_id = self._holder(person, household.previous_address)
            self._permits(holder_id, household.previous_address, expired=True)

    def _holder(self, person: Person, address: Address) -> str:
        holder_id = self._next("PH")
        updated = self._timestamp()
        self.out.parking_holders.append(
            {
                "holder_id": holder_id,
                "holder_type": "RESIDENT",
                "title": self._title(person) if self._chance(0.8) else None,
                "first_name": self._first_name(person, self.e.nickname),
                "last_name": self._surname(person, old_record=False),
                "email": self._email(person, required=self._chance(0.7)),
                "mobile": self._phone(person),
                "address_1": one_line(address),
                "address_2": address.locality,
                "town": address.town,
                "postcode": self._postcode(address),
                "zone": zone_of(address),
                "created_at": updated[:10],
                "updated_at": updated,
            }
        )
        self.out.truth.append(("parking", holder_id, person.person_id, person.household_id))
        return holder_id

    def _business_holder(self, household: Household) -> None:
        """A sole trader's van permit: the company's name, the owner's home and mobile."""
        owner = household.members[0]
        self._ids["C"] += 1
        company_id = f"C{self._ids['C']:08d}"
        company = f"{owner.surname} {self.rng.choice(TRADES)} Ltd"
        holder_id = self._next("PH")
        address = household.address
        self.out.parking_holders.append(
            {
                "holder_id": holder_id,
                "holder_type": "BUSINESS",
                "title": None,
                "first_name": None,
                "last_name": company,
                "email": f"info@{company.lower().replace(' ', '')[:-3]}.co.uk",
                "mobile": owner.mobile,
                "address_1": one_line(address),
                "address_2": address.locality,
                "town": address.town,
                "postcode": self._postcode(address),
                "zone": zone_of(address),
                "created_at": self._timestamp()[:10],
                "updated_at": self._timestamp(),
            }
        )
        self._permits(holder_id, address, expired=False, kind="BUSINESS")
        # The company is no person: its truth is its own entity, never the owner.
        self.out.truth.append(("parking", holder_id, company_id, household.household_id))
        self.hard_cases.append(HardCase(owner.person_id, company_id, "company_of_resident"))

    def _permits(self, holder_id: str, address: Address, expired: bool, kind: str = "") -> None:
        vehicles = 1 + (self._chance(0.3)) + (self._chance(0.05))
        for _ in range(vehicles):
            self._permit(holder_id, address, expired, kind or "RESIDENT", self._vrm())
        if not kind and self._chance(0.4):
            self._permit(holder_id, address, expired, "VISITOR", None)

    def _permit(
        self, holder_id: str, address: Address, expired: bool, kind: str, vrm: str | None
    ) -> None:
        start = self._date_between(900 if expired else 360, 400 if expired else 1)
        self.out.parking_permits.append(
            {
                "permit_no": self._next("RP"),
                "holder_id": holder_id,
                "permit_type": kind,
                "vrm": vrm,
                "zone": zone_of(address),
                "valid_from": start.isoformat(),
                "valid_to": (start + timedelta(days=365)).isoformat(),
                "updated_at": self._timestamp(),
            }
        )

    def _vrm(self) -> str:
        rng = self.rng
        letters = "".join(rng.choice(_VRM_LETTERS) for _ in range(5))
        return f"{letters[:2]}{rng.randrange(10, 75):02d} {letters[2:]}"

    # -- libraries ----------------------------------------------------------------------

    def libraries(self, household: Household) -> None:
        e = self.e
        for person in household.members:
            if self._chance(e.adult_in_libraries):
                self._borrower(person, "ADULT")
                if self._chance(e.library_second_card):
                    self._borrower(person, "ADULT")
        if self._chance(e.household_has_junior_borrowers):
            self._juniors(household)

    def _juniors(self, household: Household) -> None:
        """Children (4–15) with junior cards: people only libraries hold."""
        e, rng = self.e, self.rng
        parent = household.members[0]
        if not 24 <= (self.as_of - parent.date_of_birth).days // 365 <= 58:
            return
        shared_email = parent.email if self._chance(e.library_child_shares_parent_email) else None
        children: list[Person] = []
        for _ in range(rng.randrange(1, 3)):
            self._ids["C"] += 1
            sex = rng.choice("MF")
            taken = {c.first_name for c in children}
            names = [n for n in (BOYS if sex == "M" else GIRLS) if n not in taken]
            child = Person(
                person_id=f"J{self._ids['C']:08d}",
                household_id=household.household_id,
                sex=sex,
                title="",
                first_name=rng.choice(names),
                middle_names=None,
                surname=parent.surname,
                previous_surname=None,
                date_of_birth=self._date_between(15 * 365, 4 * 365 + 1),
                email=shared_email or "",
                mobile="",
                ni_number="",
                address=household.address,
                previous_address=None,
                landline=None,
            )
            children.append(child)
            self._borrower(child, "JUNIOR")
            relation = "parent_child_shared_email" if shared_email else "parent_child"
            self.hard_cases.append(HardCase(parent.person_id, child.person_id, relation))
        for a, b in zip(children, children[1:], strict=False):
            self.hard_cases.append(HardCase(a.person_id, b.person_id, "siblings"))

    def _borrower(self, person: Person, category: str) -> None:
        e = self.e
        self._next_card += self.rng.randrange(1, 60)
        card = str(self._next_card)
        junior = category == "JUNIOR"
        address, _ = (person.address, False) if junior else self._address_for(person)
        dob = (
            None
            if self._chance(e.dob_missing_libraries_junior if junior else e.dob_missing_libraries)
            else person.date_of_birth
        )
        middle = None if junior else self._middle(person)
        first = person.first_name if junior else self._first_name(person, self.e.nickname)
        lines = [*(x for x in (one_line(address), address.locality) if x), address.town]
        lines += [""] * (3 - len(lines))
        email = (person.email or "") if junior else (self._email(person) or "")
        self.out.library_borrowers.append(
            {
                "CARD_NUMBER": card,
                "BORROWER_CATEGORY": category,
                "TITLE": "" if junior else self._title(person),
                "SURNAME": self._surname(person, old_record=False).upper(),
                "FORENAMES": f"{first} {middle}" if middle else first,
                "DATE_OF_BIRTH": dob.strftime("%d-%m-%Y") if dob else "",
                "ADDRESS_1": lines[0],
                "ADDRESS_2": lines[1],
                "ADDRESS_3": lines[2],
                "POSTCODE": self._postcode(address),
                "EMAIL": email,
                "HOME_BRANCH": self.rng.choice(BRANCHES),
                "REGISTERED": self._timestamp()[:10],
                "LAST_UPDATED": self._timestamp(),
            }
        )
        self.out.truth.append(("libraries", card, person.person_id, person.household_id))
