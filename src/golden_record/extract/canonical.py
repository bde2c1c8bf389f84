"""The canonical person record: the contract between extractors and every later stage.

Every extractor maps its source's native shape to exactly these columns; standardising,
matching and golden records read nothing else.
"""

from __future__ import annotations

import codecs
import logging

import pandas as pd

log = logging.getLogger(__name__)

# C0 and C1 control characters and DEL. A NUL byte breaks PostgreSQL ("invalid byte
# sequence for encoding UTF8: 0x00") and the others corrupt exports and screens; no
# person's name, address or contact detail holds one. Tab, CR and LF inside a value
# become a space, the rest are removed. So are the invisible characters that change how
# text is shown or compared without showing themselves: the bidirectional controls
# (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates, U+200E, U+200F and
# U+061C marks), which make a CRM screen show a name or email other than the one stored
# ("Trojan Source"), and zero-width and format characters (U+200B, U+2060–U+2064,
# U+FEFF, U+180E, the soft hyphen U+00AD) that make two equal names differ. The zero-width
# joiner and non-joiner (U+200C, U+200D) are kept: names in Persian and Indic scripts are
# spelt with them.
#
# Written with escapes to be read, matched as the characters themselves: Arrow's regular
# expressions (RE2, what pandas uses for Arrow-backed strings) do not read Python's \u
# escapes, and pandas then falls back to Python's, a value at a time: 0.3 s a column at a
# million records, five seconds of every night's standardising; 0.04 s as characters.
_SPACING_CONTROLS = codecs.decode(r"[\t\r\n]+", "unicode_escape")
_OTHER_CONTROLS = codecs.decode(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]",
    "unicode_escape",
)

CANONICAL_COLUMNS: tuple[str, ...] = (
    "source_system",
    "source_record_id",
    "title",
    "first_name",
    "middle_names",
    "surname",
    "date_of_birth",
    "email",
    "phone",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "town",
    "postcode",
    "uprn",
    "ni_number",
    "source_updated_at",
)

REQUIRED_COLUMNS: tuple[str, ...] = ("source_system", "source_record_id", "source_updated_at")
# A record is about a person when it names one or holds something that identifies one; a
# record with neither (an account of empty strings, an address alone) cannot be matched
# to anyone and would become a golden record with nothing in it.
NAME_COLUMNS: tuple[str, ...] = ("first_name", "surname")
IDENTIFYING_COLUMNS: tuple[str, ...] = ("email", "phone", "ni_number", "date_of_birth")


class CanonicalContractError(ValueError):
    """A frame claimed to hold canonical person records but breaks the contract."""


def unique_ids(records: pd.DataFrame) -> pd.Series:
    """The one key of a record from standardising to the golden store:
    ``<source_system>:<source_record_id>`` (unique, since a record id is unique within
    its source)."""
    return (records["source_system"] + ":" + records["source_record_id"]).rename("unique_id")


def split_unique_ids(ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``unique_id`` back to source system and record id, for the CRM contract and files
    people read: a record id may itself hold a colon, the system never does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Arrow's kernels: pandas' str.split built a Python list per id (4 s a million); a
    # split at the first colon is a quarter of two regular expressions' time.
    values = pa.array(ids.astype("string"), type=pa.string())
    parts = pc.split_pattern(values, ":", max_splits=1)
    system = pc.list_element(parts, 0)
    # An id without a colon has no record id (its second element taken from a stand-in).
    whole = pc.greater(pc.list_value_length(parts), 1)
    record_id = pc.list_element(pc.if_else(whole, parts, pa.scalar(["", None], parts.type)), 1)
    system = pd.Series(system, index=ids.index, dtype="string")
    return system, pd.Series(record_id, index=ids.index, dtype="string")


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="string") for column in CANONICAL_COLUMNS})


def conform(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns, as strings, in contract order.

    Raises :class:`CanonicalContractError` naming the source when a column is missing,
    a required value is empty, or a record id repeats.
    """
    missing = [c for c in CANONICAL_COLUMNS if c not in frame.columns]
    if missing:
        raise CanonicalContractError(f"{source}: canonical columns missing: {', '.join(missing)}")
    out = frame.loc[:, list(CANONICAL_COLUMNS)].copy()
    for column in CANONICAL_COLUMNS:
        series = out[column].astype("string")
        series = _without_control_characters(series, out["source_record_id"], source, column)
        series = series.str.strip()
        out[column] = series.mask(series == "")
    for column in REQUIRED_COLUMNS:
        empty = out[column].isna()
        if empty.any():
            position = int(empty.to_numpy().nonzero()[0][0])
            raise CanonicalContractError(f"{source}: record at position {position} has no {column}")
    duplicated = out.duplicated(["source_system", "source_record_id"])
    if duplicated.any():
        row = out.loc[duplicated].iloc[0]
        raise CanonicalContractError(
            f"{source}: record {row['source_system']}:{row['source_record_id']} appears twice"
        )
    return out.reset_index(drop=True)


def _without_control_characters(
    series: pd.Series, record_ids: pd.Series, source: str, column: str
) -> pd.Series:
    """The values with control characters removed; each record cleaned is logged by id
    and column (never its value)."""
    dirty = series.str.contains(f"{_SPACING_CONTROLS}|{_OTHER_CONTROLS}", regex=True)
    dirty = dirty.fillna(False).astype(bool)
    if not dirty.any():
        return series
    cleaned = series.copy()
    cleaned[dirty] = (
        series[dirty]
        .str.replace(_SPACING_CONTROLS, " ", regex=True)
        .str.replace(_OTHER_CONTROLS, "", regex=True)
    )
    ids = record_ids[dirty].astype("string").fillna("(no id)").tolist()
    log.warning(
        "%s: removed control characters from %s in %d record(s): %s%s",
        source,
        column,
        len(ids),
        ", ".join(ids[:20]),
        " …" if len(ids) > 20 else "",
    )
    return cleaned


def about_a_person(records: pd.DataFrame) -> pd.Series:
    """Whether each conformed record names a person or holds an identifying detail
    (:data:`NAME_COLUMNS`, :data:`IDENTIFYING_COLUMNS`); the others are quarantined."""
    return records[[*NAME_COLUMNS, *IDENTIFYING_COLUMNS]].notna().any(axis=1)


def conform_all(frame: pd.DataFrame, name: str = "input") -> pd.DataFrame:
    """:func:`conform` for records from any number of source systems at once."""
    return conform(frame, name)


def parsed_dates(values: pd.Series) -> pd.Series:
    """Dates read from ISO, UK day-first or compact text, unchecked (NaT if unreadable)."""
    text = values.astype("string").str.strip()
    iso = pd.to_datetime(
        text.where(text.str.match(r"^\d{4}-\d{2}-\d{2}")).str[:10],
        format="%Y-%m-%d",
        errors="coerce",
    )
    uk = pd.to_datetime(
        text.where(text.str.match(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$")).str.replace(
            r"[.-]", "/", regex=True
        ),
        format="%d/%m/%Y",
        errors="coerce",
    )
    compact = pd.to_datetime(
        text.where(text.str.match(r"^(19|20)\d{6}$")), format="%Y%m%d", errors="coerce"
    )
    return iso.fillna(uk).fillna(compact)
