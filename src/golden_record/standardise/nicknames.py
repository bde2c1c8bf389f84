"""Forename variants: the ``nicknames`` package's list plus UK forms it lacks.

The ``nicknames`` package is built from US genealogy data, so common British forms
(Peggy for Margaret, Sandy for Alexander, Bertie for Albert) are added from the packaged
``data/uk_nicknames.csv``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def _uk_pairs() -> tuple[tuple[str, str], ...]:
    with (DATA_DIR / "uk_nicknames.csv").open(encoding="utf-8") as handle:
        return tuple((row["formal"], row["nickname"]) for row in csv.DictReader(handle))


@cache
def _namer() -> Any:
    from nicknames import NickNamer

    return NickNamer()


@cache
def _uk_nicknames_of() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for formal, nickname in _uk_pairs():
        table[formal].add(nickname)
    return {name: frozenset(nicks) for name, nicks in table.items()}


@cache
def _uk_formals_of() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = defaultdict(set)
    for formal, nickname in _uk_pairs():
        table[nickname].add(formal)
    return {name: frozenset(formals) for name, formals in table.items()}


def uk_nicknames_of(name: str) -> frozenset[str]:
    """Only the packaged UK forms for a formal forename."""
    return _uk_nicknames_of().get(name.strip().lower(), frozenset())


@cache
def nicknames_of(name: str) -> frozenset[str]:
    """Informal forms of a formal forename, lower-case (``'robert'`` → ``{'bob', ...}``)."""
    key = name.strip().lower()
    return frozenset(_namer().nicknames_of(key)) | _uk_nicknames_of().get(key, frozenset())


@cache
def formal_names_of(nickname: str) -> frozenset[str]:
    """Formal forenames a nickname may stand for, lower-case (``'peggy'`` → ``{'margaret'}``)."""
    key = nickname.strip().lower()
    return frozenset(_namer().canonicals_of(key)) | _uk_formals_of().get(key, frozenset())
