"""Pools of realistic UK values drawn once from Faker's ``en_GB`` provider.

Drawing pools once and sampling from them with a seeded ``random.Random`` keeps the
generator deterministic and fast enough for a million records.
"""

from __future__ import annotations

import importlib
import math
import random
from dataclasses import dataclass

from faker import Faker
from faker.providers.person.en_GB import Provider as PersonProvider

# Inward codes never use these letters (BS7666 / Royal Mail).
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# NI number letters: first never D F I Q U V, second never D F I O Q U V.
_NI_FIRST = [c for c in "ABCEGHJKLMNOPRSTWXYZ"]
_NI_SECOND = [c for c in "ABCEGHJKLMNPRSTWXYZ"]
_NI_NEVER_ISSUED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
EMAIL_DOMAINS = (
    "gmail.com",
    "hotmail.co.uk",
    "yahoo.co.uk",
    "outlook.com",
    "btinternet.com",
    "live.co.uk",
    "icloud.com",
    "sky.com",
)


@dataclass(frozen=True)
class Pools:
    male_first: tuple[str, ...]
    female_first: tuple[str, ...]
    surnames: tuple[str, ...]
    surname_weights: tuple[float, ...]
    streets: tuple[str, ...]
    towns: tuple[str, ...]
    outward_codes: tuple[str, ...]
    localities: tuple[str, ...]


# Streets a council of this many people needs: 4,000 up to 600,000 people (every seed's
# data as it always was), then one per 150 people. With a fixed 4,000 streets (each
# number 1-239) a council of 2.6 million people put several unrelated households at one
# street and number, and the address blocking rules' pairs grew with the square of the
# population: DuckDB spilled past 40 GB of disk for plain Splink at five million records.
PEOPLE_PER_STREET = 150
FEWEST_STREETS = 4000


def streets_for(people: int) -> int:
    return max(FEWEST_STREETS, people // PEOPLE_PER_STREET)


# Names likewise. Faker's en_GB holds 500 surnames and 182 forenames of each sex: at 2.6
# million people a forename and surname were shared by ~14 people on average (Smith
# far more), and the model's forename + surname blocking rule gave 134 million pairs
# against 5.5 million at a million records, growing with the square of the population.
# A county that size holds far more names. Up to ``NAMES_GROW_FROM`` people the pools
# are en_GB's alone (every seed's data as it was); past it each pool grows with the
# square root of the population (forename × surname combinations with the population
# itself), drawn from other English-language locales' names, each new surname as common
# as en_GB's median one.
NAMES_GROW_FROM = 600_000
MORE_NAMES_FROM = ("en_US", "en_IE", "en_NZ", "en_IN")


def name_scale(people: int) -> float:
    return max(1.0, math.sqrt(people / NAMES_GROW_FROM))


def _more_names(attribute: str, besides: set[str]) -> list[str]:
    """Plain ASCII names (forenames of one sex only) of :data:`MORE_NAMES_FROM`."""
    found: dict[str, None] = {}
    for locale in MORE_NAMES_FROM:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        found.update(dict.fromkeys(getattr(provider, attribute)))
    return sorted(
        name
        for name in found
        if name not in besides and name.isascii() and name.replace("-", "").isalpha()
    )


def _grown(base: tuple[str, ...], more: list[str], scale: float, rng: random.Random) -> tuple:
    wanted = min(len(base) + len(more), round(len(base) * scale))
    return base + tuple(rng.sample(more, wanted - len(base)))


def build_pools(
    seed: int, streets: int = FEWEST_STREETS, towns: int = 60, names: float = 1.0
) -> Pools:
    """``names``: how many times en_GB's name pools to draw from (:func:`name_scale`)."""
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    surnames: tuple[str, ...] = tuple(PersonProvider.last_names.keys())
    weights: tuple[float, ...] = tuple(PersonProvider.last_names.values())
    male = tuple(dict.fromkeys(PersonProvider.first_names_male))
    female = tuple(dict.fromkeys(PersonProvider.first_names_female))
    if names > 1:
        rng = random.Random(f"{seed}-names")
        both = set(_more_names("first_names_male", set())) & set(
            _more_names("first_names_female", set())
        )
        grown = _grown(surnames, _more_names("last_names", set(surnames)), names, rng)
        weights += (sorted(weights)[len(weights) // 2],) * (len(grown) - len(surnames))
        surnames = grown
        male = _grown(male, _more_names("first_names_male", {*male, *female, *both}), names, rng)
        female = _grown(
            female, _more_names("first_names_female", {*male, *female, *both}), names, rng
        )
    return Pools(
        male_first=male,
        female_first=female,
        surnames=surnames,
        surname_weights=weights,
        streets=tuple(dict.fromkeys(fake.street_name() for _ in range(streets * 2)))[:streets],
        towns=tuple(dict.fromkeys(fake.city() for _ in range(towns * 3)))[:towns],
        outward_codes=tuple(dict.fromkeys(fake.postcode().split()[0] for _ in range(towns * 8))),
        localities=tuple(
            dict.fromkeys(fake.city_prefix() + " " + fake.last_name() for _ in range(50))
        ),
    )


def inward_code(rng: random.Random) -> str:
    return f"{rng.randrange(10)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"


def ni_number(rng: random.Random) -> str:
    """An NI number that passes HMRC's format rules (Faker's ``ssn()`` does not)."""
    while True:
        prefix = rng.choice(_NI_FIRST) + rng.choice(_NI_SECOND)
        if prefix not in _NI_NEVER_ISSUED:
            return f"{prefix}{rng.randrange(1_000_000):06d}{rng.choice('ABCD')}"


def mobile_number(rng: random.Random) -> str:
    return f"07{rng.choice('4589')}{rng.randrange(100_000_000):08d}"


def landline_number(rng: random.Random) -> str:
    area = rng.choice(("0113", "0114", "0115", "0116", "0117", "0118", "0121", "0161", "01632"))
    digits = 10 - len(area) + 1
    return f"{area}{rng.randrange(10 ** (digits - 1), 10**digits)}"
