"""A declared source's native rows as canonical person records, by its declaration's
``[sources.NAME.canonical]`` table (the transforms are listed in ``sources.toml``).

A column the declaration maps that the rows lack is the source's schema having moved
away from its declaration: refused as bad source data naming the source, the canonical
field and the column, never read as empty (which would blank that field for every
resident at the next publish).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from golden_record.extract.declaration import MAPPABLE_FIELDS, NAME_PARTS, SourceDeclaration
from golden_record.extract.sources.errors import SourceDataError
from golden_record.extract.sources.text import (
    compact_lines,
    iso_timestamp,
    join_nonempty,
    split_contact_name,
)

log = logging.getLogger(__name__)


def to_canonical(declaration: SourceDeclaration, raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` (the source's native columns, as text) as canonical records."""
    source = declaration.name
    key = _column(declaration, raw, declaration.key, "source_record_id")
    out: dict[str, Any] = {"source_system": source, "source_record_id": key}
    lines_cache: dict[tuple[str, ...], pd.DataFrame] = {}
    for target in MAPPABLE_FIELDS:
        entry = declaration.canonical.get(target)
        if entry is None and target == "source_updated_at" and declaration.watermark:
            entry = declaration.watermark
        if entry is None:
            out[target] = pd.NA
        elif target == "source_updated_at":
            column = _value(declaration, raw, target, entry, lines_cache)
            out[target] = iso_timestamp(source, column, key)
        else:
            out[target] = _value(declaration, raw, target, entry, lines_cache)
    return pd.DataFrame(out, index=raw.index)


def _column(declaration: SourceDeclaration, raw: pd.DataFrame, name: str, target: str) -> pd.Series:
    if name not in raw.columns:
        raise SourceDataError(
            declaration.name,
            f"the declaration ({declaration.declared_in}) maps column {name!r} to {target}, "
            f"and the extract has no such column (it has: {', '.join(map(str, raw.columns))})",
        )
    return raw[name].astype("string")


def _comma_address(values: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """An address written as one comma-separated line ending in the town, as lines 1-3
    (the third holding the rest) and the town; one part alone is a first line."""
    # One pass over plain strings: six pandas maps over lists cost 1.6 s of a
    # 300,000-row file drop's every night.
    line_1: list[str | None] = []
    line_2: list[str | None] = []
    line_3: list[str | None] = []
    town: list[str | None] = []
    for value in values.fillna("").tolist():
        parts = [part.strip() for part in value.split(",")]
        lines = parts[:-1] if len(parts) > 1 else parts
        town.append(parts[-1] if len(parts) > 1 else None)
        line_1.append(lines[0] if len(lines) > 0 else None)
        line_2.append(lines[1] if len(lines) > 1 else None)
        line_3.append(", ".join(lines[2:]) if len(lines) > 2 else None)
    out = pd.DataFrame({"line_1": line_1, "line_2": line_2, "line_3": line_3}, index=values.index)
    return out.astype("string"), pd.Series(town, index=values.index, dtype="string")


def _value(
    declaration: SourceDeclaration,
    raw: pd.DataFrame,
    target: str,
    entry: str | Mapping[str, Any],
    lines_cache: dict[tuple[str, ...], pd.DataFrame],
) -> pd.Series:
    def column(name: str) -> pd.Series:
        return _column(declaration, raw, name, target)

    if isinstance(entry, str):
        return column(entry)
    if "first_of" in entry:
        values = [column(name) for name in entry["first_of"]]
        first = values[0]
        for value in values[1:]:
            first = first.fillna(value)
        return first
    if "join" in entry:
        return join_nonempty(*(column(name) for name in entry["join"]), sep=entry.get("sep", " "))
    if "first_word" in entry or "after_first_word" in entry:
        name = entry.get("first_word") or entry["after_first_word"]
        words = column(name).fillna("").str.strip().str.split(n=1, expand=True)
        words = words.reindex(columns=[0, 1])
        part = (words[0] if "first_word" in entry else words[1]).astype("string")
        return part.mask(part == "")
    if "line" in entry or "town_of_lines" in entry:
        names = tuple(entry.get("lines") or entry["town_of_lines"])
        if names not in lines_cache:
            lines_cache[names] = compact_lines(pd.DataFrame({n: column(n) for n in names}))
        compacted = lines_cache[names]
        return compacted["town"] if "town_of_lines" in entry else compacted[f"line_{entry['line']}"]
    if "name_part" in entry:
        split = [split_contact_name(v) for v in column(entry["of"]).astype(object)]
        parts = pd.DataFrame(split, columns=list(NAME_PARTS), index=raw.index, dtype="string")
        return parts[entry["name_part"]]
    if "comma_line" in entry or "comma_town" in entry:
        name = entry.get("of") or entry["comma_town"]
        lines, town = _comma_address(column(name))
        if "comma_town" in entry:
            return town
        return lines[f"line_{entry['comma_line']}"]
    if "date" in entry:
        text = column(entry["date"])
        written = entry.get("format")
        if not written:
            return text
        parsed = pd.to_datetime(text.str.strip(), format=written, errors="coerce")
        unreadable = parsed.isna() & text.notna() & (text.str.strip() != "")
        if unreadable.any():
            position = int(unreadable.to_numpy().nonzero()[0][0])
            raise SourceDataError(
                declaration.name,
                f"{target}: {text.iloc[position]!r} is not a date written as {written}",
                f"record {raw[declaration.key].iloc[position]}",
            )
        return parsed.dt.strftime("%Y-%m-%d").astype("string")
    if "code" in entry:
        codes = column(entry["code"]).str.strip()
        code_list = {str(code): text for code, text in entry["values"].items()}
        mapped = codes.map(code_list, na_action="ignore").astype("string")
        # A code the list lacks leaves the field empty, named by record (never the code's
        # value: it may be personal): the declaration's list wants the new code.
        unknown = mapped.isna() & codes.notna() & (codes != "")
        if unknown.any():
            ids = raw.loc[unknown.to_numpy(), declaration.key].astype("string")
            log.warning(
                "%s: %s: %d record(s) with a code not in the declaration's list, left empty: %s",
                declaration.name,
                target,
                len(ids),
                ", ".join(ids.head(20)),
            )
        return mapped
    raise AssertionError(f"unchecked transform {entry!r}")  # declaration.py checks them all
