"""Survivorship: choose each golden attribute from a cluster's records, by configured rules.

The rules live in a version-controlled TOML file (``golden_record/golden/survivorship.toml`` by
default; ``GOLDEN_RECORD_SURVIVORSHIP`` points at another). Each attribute group (name,
date of birth, address, email, phone, NI number) is taken whole from one source record,
and that record's id, system and date are kept beside the value. Every distinct email,
phone and address also stays available as a list, newest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from golden_record.keys import as_arrow
from golden_record.settings import runtime
from golden_record.tomlfile import read_toml

DEFAULT_CONFIG = Path(__file__).resolve().parent / "survivorship.toml"
RULES = ("validated", "trust", "most_recent", "most_complete")


class SurvivorshipConfigError(ValueError):
    """The survivorship file is unreadable or names a rule, source or column it cannot."""


@dataclass(frozen=True)
class AttributeRule:
    name: str
    columns: tuple[str, ...]
    present_when: str
    rules: tuple[str, ...]
    trust: tuple[str, ...]
    validated: str | None


@dataclass(frozen=True)
class Survivorship:
    version: int
    attributes: tuple[AttributeRule, ...]
    lists: dict[str, str]  # list column → attribute whose values it gathers
    path: Path
    # Trust rankings the source declarations changed: (attribute, ranking).
    declared_trust: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def value_columns(self) -> list[str]:
        return [c for a in self.attributes for c in a.columns]

    @property
    def golden_columns(self) -> list[str]:
        provenance = [
            f"{a.name}_{suffix}"
            for a in self.attributes
            for suffix in ("source", "source_system", "source_updated_at")
        ]
        return ["golden_id", *self.value_columns, *provenance, *self.lists]


def config_path() -> Path:
    return runtime().survivorship or DEFAULT_CONFIG


def load(path: Path | None = None) -> Survivorship:
    path = Path(path or config_path())
    raw = read_toml(path, SurvivorshipConfigError, "survivorship")
    attributes = []
    for name, spec in raw.get("attributes", {}).items():
        where = f"{path}: attribute {name!r}"
        try:
            rule = AttributeRule(
                name=name,
                columns=tuple(spec["columns"]),
                present_when=spec.get("present_when", spec["columns"][0]),
                rules=tuple(spec["rules"]),
                trust=tuple(spec.get("trust", ())),
                validated=spec.get("validated"),
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise SurvivorshipConfigError(f"{where}: needs 'columns' and 'rules'") from exc
        unknown = [r for r in rule.rules if r not in RULES]
        if unknown:
            raise SurvivorshipConfigError(
                f"{where}: unknown rule {unknown[0]!r}; rules are {', '.join(RULES)}"
            )
        if "trust" in rule.rules and not rule.trust:
            raise SurvivorshipConfigError(f"{where}: rule 'trust' needs a 'trust' ranking")
        if "validated" in rule.rules and not rule.validated:
            raise SurvivorshipConfigError(f"{where}: rule 'validated' needs a 'validated' column")
        attributes.append(rule)
    if not attributes:
        raise SurvivorshipConfigError(f"{path}: no [attributes.*] tables")
    attributes, declared = _with_declared_trust(attributes)
    lists = dict(raw.get("lists", {}))
    names = {a.name for a in attributes}
    for column, attribute in lists.items():
        if attribute not in names:
            raise SurvivorshipConfigError(
                f"{path}: list {column!r} gathers unknown attribute {attribute!r}"
            )
    return Survivorship(int(raw.get("version", 1)), tuple(attributes), lists, path, declared)


def _with_declared_trust(
    attributes: list[AttributeRule],
) -> tuple[list[AttributeRule], tuple[tuple[str, tuple[str, ...]], ...]]:
    """The rules with each declared source placed in the trust rankings that do not name
    it, where its declaration's ``trust`` table says (``sources.toml``); and the rankings
    so changed (part of the rules' digest: a change rebuilds every golden record)."""
    from dataclasses import replace

    from golden_record.extract.declaration import DeclarationError, declared_sources

    names = {a.name for a in attributes}
    declared = declared_sources()
    out, changed = [], []
    for rule in attributes:
        ranking = list(rule.trust)
        for source in declared.sources:
            place = source.trust.get(rule.name)
            if place is None or source.name in ranking or "trust" not in rule.rules:
                continue
            ranking.insert(min(place, len(ranking) + 1) - 1, source.name)
        if tuple(ranking) != rule.trust:
            changed.append((rule.name, tuple(ranking)))
            rule = replace(rule, trust=tuple(ranking))
        out.append(rule)
    # A place for an attribute these rules lack but the packaged ones hold is not a slip
    # (a council's rules may leave one out, and the packaged declarations place sources
    # in the packaged attributes): it places nothing. Any other name is refused.
    known = names | _packaged_attribute_names()
    for source in declared.sources:
        unknown = sorted(set(source.trust) - known)
        if unknown:
            raise DeclarationError(
                source.declared_in,
                source.name,
                f"trust.{unknown[0]}",
                f"not a survivorship attribute (attributes: {', '.join(sorted(names))})",
            )
    return out, tuple(changed)


def _packaged_attribute_names() -> set[str]:
    raw = read_toml(DEFAULT_CONFIG, SurvivorshipConfigError, "survivorship")
    return set(raw.get("attributes", {}))


def _check_columns(records: pd.DataFrame, config: Survivorship) -> None:
    needed = {"golden_id", "unique_id", "source_system", "source_updated_at"}
    for a in config.attributes:
        needed |= {*a.columns, a.present_when}
        if a.validated:
            needed.add(a.validated)
    missing = sorted(needed - set(records.columns))
    if missing:
        raise SurvivorshipConfigError(
            f"{config.path}: records lack column(s) {', '.join(missing)} the rules name"
        )


def _sort_keys(candidates: pd.DataFrame, rule: AttributeRule) -> tuple[list[str], list[bool]]:
    """Add one sort column per rule to ``candidates``; return the keys and their order."""
    keys, ascending = ["golden_id"], [True]
    for name in rule.rules:
        column = f"_{name}"
        if name == "validated":
            candidates[column] = candidates[rule.validated].fillna(False).astype(bool)
        elif name == "trust":
            rank = {system: i for i, system in enumerate(rule.trust)}
            candidates[column] = candidates["source_system"].map(rank).fillna(len(rank))
        elif name == "most_recent":
            candidates[column] = candidates["source_updated_at"].fillna("")
        elif name == "most_complete":
            candidates[column] = candidates[list(rule.columns)].notna().sum(axis=1)
        keys.append(column)
        ascending.append(name == "trust")  # a lower trust rank is better; all else higher
    return [*keys, "unique_id"], [*ascending, True]


def _address_text(records: pd.DataFrame, rule: AttributeRule) -> pd.Series:
    from golden_record.extract.sources.text import join_nonempty

    return join_nonempty(*(records[c].astype("string") for c in rule.columns), sep=", ")


def _json_lists(values: pd.Series, golden_id: pd.Series) -> pd.Series:
    """Distinct values per golden ID as a JSON array, in the order given.

    In Arrow: each value quoted, joined per golden ID (Arrow's list aggregate keeps the
    order given when it runs on one thread). Only values JSON must escape (a quote, a
    backslash, a control or non-ASCII character) go through ``json.dumps``: through Python
    objects, every value was 1.6 s and half a gigabyte at a first night's peak."""
    frame = pd.DataFrame({"golden_id": golden_id.array, "value": values.astype("str").array})
    frame = frame.dropna().drop_duplicates()
    text = as_arrow(frame["value"]).cast(pa.string())
    escape = pc.match_substring_regex(text, r"[\"\\\x00-\x1f\x7f-\x{10FFFF}]").to_numpy(
        zero_copy_only=False
    )
    quoted = pc.binary_join_element_wise('"', text, '"', "")
    if escape.any():
        dumped = pa.array([json.dumps(v) for v in frame["value"][escape]], type=pa.string())
        quoted = pc.replace_with_mask(quoted, pa.array(escape), dumped)
    table = pa.table({"golden_id": as_arrow(frame["golden_id"]).cast(pa.string()), "v": quoted})
    grouped = table.group_by("golden_id", use_threads=False).aggregate([("v", "list")])
    joined = pc.binary_join(grouped["v_list"], ",")
    listed = pc.binary_join_element_wise("[", joined, "]", "")
    return pd.Series(
        listed.to_numpy(zero_copy_only=False),
        index=pd.Index(grouped["golden_id"].to_numpy(zero_copy_only=False)),
        dtype=object,
    )


def _needed(rule: AttributeRule) -> list[str]:
    """The columns choosing ``rule``'s value reads (the rest of a record is not copied)."""
    wanted = [
        "golden_id", "unique_id", "source_system", "source_updated_at", rule.present_when,
        *rule.columns, *([rule.validated] if rule.validated else []),
    ]  # fmt: skip
    return list(dict.fromkeys(wanted))


def choose(records: pd.DataFrame, config: Survivorship | None = None) -> pd.DataFrame:
    """``records``: presentable records with ``golden_id``; one golden row per ID."""
    config = config or load()
    _check_columns(records, config)
    golden = pd.DataFrame(index=pd.Index(sorted(records["golden_id"].unique()), name="golden_id"))
    for rule in config.attributes:
        needed = records[_needed(rule)]
        candidates = needed[needed[rule.present_when].notna()].copy()
        keys, ascending = _sort_keys(candidates, rule)
        chosen = (
            candidates.sort_values(keys, ascending=ascending)
            .drop_duplicates("golden_id")
            .set_index("golden_id")
        )
        for column in rule.columns:
            golden[column] = chosen[column]
        golden[f"{rule.name}_source"] = chosen["unique_id"]
        golden[f"{rule.name}_source_system"] = chosen["source_system"]
        golden[f"{rule.name}_source_updated_at"] = chosen["source_updated_at"]
    by_name = {a.name: a for a in config.attributes}
    # The order alone, not a sorted copy of every column of every record.
    newest_first = (
        records[["source_updated_at", "unique_id"]]
        .reset_index(drop=True)
        .sort_values(["source_updated_at", "unique_id"], ascending=[False, True])
        .index.to_numpy()
    )
    for list_column, attribute in config.lists.items():
        rule = by_name[attribute]
        ordered = records[_needed(rule)].iloc[newest_first]
        present = ordered[ordered[rule.present_when].notna()]
        values = _address_text(present, rule) if len(rule.columns) > 1 else present[rule.columns[0]]
        gathered = _json_lists(values, present["golden_id"])
        golden[list_column] = gathered.reindex(golden.index).fillna("[]")
    return golden.reset_index()[config.golden_columns]
