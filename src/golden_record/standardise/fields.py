"""Standardise canonical person records into the comparable form the matcher reads.

Each rule works on a whole column at once (vectorised, or once per distinct value) so a
million records standardise in seconds. Placeholder values become missing; invalid values
are flagged rather than silently dropped (``postcode_valid``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import jellyfish
import pandas as pd
import phonenumbers
from rapidfuzz.distance import DamerauLevenshtein

from golden_record.extract.canonical import parsed_dates, unique_ids
from golden_record.standardise.nicknames import formal_names_of

PLACEHOLDER_TEXT = frozenset(
    {"", "unknown", "n/a", "na", "none", "null", "tbc", "not known", "notknown", "-", "x", "?"}
)
PLACEHOLDER_EMAILS = frozenset(
    {"test@test.com", "noemail@noemail.com", "none@none.com", "no@email.com", "a@a.com"}
)
PLACEHOLDER_PHONE_DIGITS = frozenset({"07777777777", "00000000000", "01234567890", "0"})
PLACEHOLDER_DOBS = frozenset({"1900-01-01", "1901-01-01", "1899-12-31", "1800-01-01"})

# BS7666 postcode shapes plus the special GIR 0AA.
_POSTCODE = re.compile(
    r"^(GIR0AA|(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])[0-9][ABD-HJLNP-UW-Z]{2})$"
)
_NI_NUMBER = re.compile(
    r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$"
)
_UPRN = re.compile(r"^[0-9]{1,12}$")

# Words that are not part of a person's name but turn up in name fields.
TITLES = frozenset(
    {
        "mr",
        "mrs",
        "miss",
        "ms",
        "mx",
        "dr",
        "prof",
        "professor",
        "rev",
        "revd",
        "reverend",
        "sir",
        "dame",
        "lady",
        "lord",
        "master",
        "fr",
        "sr",
        "sister",
        "capt",
        "cllr",
        "hon",
    }
)
# Titles that say a person's sex. A household's two people of one surname are most often
# a couple, and 'Mr' beside 'Mrs' tells them apart where a shared nickname ('chris') or an
# initial would not. Dr, Prof, Mx and the like say nothing.
SEX_OF_TITLE = {
    "mr": "M",
    "master": "M",
    "sir": "M",
    "lord": "M",
    "fr": "M",
    "mrs": "F",
    "miss": "F",
    "ms": "F",
    "dame": "F",
    "lady": "F",
    "sister": "F",
}
SUFFIXES = frozenset(
    {
        "jr",
        "jnr",
        "junior",
        "sr",
        "snr",
        "senior",
        "ii",
        "iii",
        "iv",
        "esq",
        "obe",
        "mbe",
        "cbe",
        "kbe",
        "phd",
        "deceased",
        "decd",
        "dec",
    }
)
# Surname particles that say nothing on their own when comparing parts of a surname.
SURNAME_PARTICLES = frozenset(
    {
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "der",
        "den",
        "la",
        "le",
        "van",
        "von",
        "st",
        "bin",
        "ibn",
        "al",
        "el",
        "mac",
        "o",
    }
)

# Phones are standardised to E.164; UK mobile numbers (07…) start with this.
UK_MOBILE_PREFIX = "+447"

MATCH_COLUMNS = (
    "unique_id",
    "source_system",
    "source_record_id",
    "first_name",
    "first_name_variants",
    "middle_names",
    "surname",
    "surname_parts",
    "first_name_sound",
    "surname_sound",
    "date_of_birth",
    "postcode",
    "postcode_valid",
    "email",
    "email_user",
    "email_digits",
    "phone",
    "address_key",
    "town",
    "uprn",
    "ni_number",
    "sex_from_title",
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _missing_placeholders(values: pd.Series) -> pd.Series:
    lowered = values.str.strip().str.lower()
    return values.mask(lowered.isin(PLACEHOLDER_TEXT))


def name(values: pd.Series) -> pd.Series:
    """Lower-case ASCII letters, hyphens between parts, single spaces; placeholders missing.

    Cleaned once per distinct value: a million records hold tens of thousands of names.
    """
    values = values.astype("string")
    distinct = pd.Series(values.dropna().unique(), dtype="string")
    kept = _missing_placeholders(distinct)
    folded = kept.map(_fold, na_action="ignore").astype("string").str.lower()
    cleaned = (
        folded.str.replace(r"[’'`.]", "", regex=True)
        .str.replace(r"[^a-z\- ]", " ", regex=True)
        .str.replace(r"\s*-\s*", "-", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip(" -")
    )
    cleaned = cleaned.mask(cleaned == "")
    table = dict(zip(distinct.tolist(), cleaned.tolist(), strict=True))
    return values.map(table, na_action="ignore").astype("string")


def without_titles_and_suffixes(values: pd.Series) -> pd.Series:
    """Drop leading titles (``mr``, ``dr``…) and trailing suffixes (``jr``, ``obe``…).

    A title or suffix is only dropped when a real name word remains, so a surname that
    happens to be ``Lord`` survives.
    """

    def clean(text: str) -> str:
        words = text.split(" ")
        while len(words) > 1 and words[0] in TITLES:
            words.pop(0)
        while len(words) > 1 and words[-1] in SUFFIXES:
            words.pop()
        return " ".join(words)

    return values.map(clean, na_action="ignore").astype("string")


def _leading_word(values: pd.Series) -> pd.Series:
    return values.astype("string").str.lower().str.extract(r"^\s*([a-z]+)", expand=False)


def sex_from_title(titles: pd.Series, forenames: pd.Series) -> pd.Series:
    """'M' or 'F' where the title says so; else missing.

    A record with no title of its own may carry one in the forename field ('Mr L').
    """
    title = _leading_word(titles)
    untitled = ~title.isin(TITLES).fillna(False).astype(bool)
    title[untitled] = _leading_word(forenames[untitled])
    return title.map(SEX_OF_TITLE).astype("string")


def first_token(values: pd.Series) -> pd.Series:
    return values.str.split(" ", n=1).str[0]


def sound(names: pd.Series) -> pd.Series:
    """American Soundex of each name (``jellyfish``), computed once per distinct name.

    For blocking only: 'cooper' and 'cowper', 'smith' and 'smyth' share a code, so a
    one-letter slip in one name still meets the other record on the other name.
    """
    distinct = names.dropna().unique()
    table = {n: jellyfish.soundex(n) for n in distinct}
    return names.map(table, na_action="ignore").astype("string")


def town(values: pd.Series) -> pd.Series:
    """Lower-case letters and single spaces ('Kingston-upon-Hull' → 'kingston upon hull')."""
    cleaned = name(values)
    return cleaned.str.replace("-", " ", regex=False).mask(cleaned.isna())


def surname_parts(surnames: pd.Series) -> pd.Series:
    """The parts of a double-barrelled or multi-word surname, particles left out.

    ``smith-jones`` → ``[jones, smith]``, so Smith-Jones can be matched to Smith or Jones
    per part while the whole surname is still compared as one.
    """
    distinct = surnames.dropna().unique()
    table = {
        s: sorted({p for p in re.split(r"[- ]", s) if p and p not in SURNAME_PARTICLES} or {s})
        for s in distinct
    }
    return _list_column(surnames, table)


def name_variants(first_names: pd.Series) -> pd.Series:
    """Each forename with the formal names it may be short for (Bob → bob, robert)."""
    distinct = first_names.dropna().unique()
    table = {n: sorted({n, *formal_names_of(n)}) for n in distinct}
    return _list_column(first_names, table)


def _list_column(values: pd.Series, table: dict[str, list[str]]) -> pd.Series:
    # Plain Python lists: pandas would infer an Arrow list dtype that does not survive a
    # round trip through Parquet.
    return pd.Series(
        [table.get(v) if isinstance(v, str) else None for v in values.astype(object)],
        index=values.index,
        dtype=object,
    )


def plausible_birth_dates(as_of: date | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last date of birth kept on ``as_of`` (today if None): no more than
    120 years before it, and not after it."""
    today = pd.Timestamp(as_of or date.today())
    return today - pd.DateOffset(years=120), today


def date_of_birth(values: pd.Series, as_of: date | None = None) -> pd.Series:
    """ISO dates from ISO or UK day-first text; placeholders, future and absurd dates missing."""
    parsed = parsed_dates(values)
    earliest, latest = plausible_birth_dates(as_of)
    plausible = (parsed <= latest) & (parsed >= earliest)
    out = parsed.where(plausible).dt.strftime("%Y-%m-%d").astype("string")
    return out.mask(out.isin(PLACEHOLDER_DOBS))


def postcode(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(normalised postcode, is it valid). Invalid postcodes keep their text, flagged."""
    compact = values.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    compact = compact.mask(compact == "")
    valid = compact.str.match(_POSTCODE).fillna(False).astype(bool)
    spaced = (compact.str[:-3] + " " + compact.str[-3:]).where(compact.str.len() >= 5, compact)
    return spaced, valid


def _e164(digits: str) -> str | None:
    try:
        parsed = phonenumbers.parse(digits, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# A UK number of ten digits after the trunk 0: phonenumbers formats every one of these as
# +44 and the same ten digits (tests/test_standardise.py checks it), so they skip parsing.
_UK_TEN_DIGITS = r"^0[1-9][0-9]{9}$"


def phone(values: pd.Series) -> pd.Series:
    """E.164 via ``phonenumbers`` (UK default region), parsed once per distinct number.

    The common shape, a UK number with ten digits after the 0, is formatted directly:
    a million records hold hundreds of thousands of distinct numbers.
    """
    text = values.astype("string").str.strip()
    digits = text.str.replace(r"[^0-9+]", "", regex=True).str.replace(r"^00", "+", regex=True)
    national = digits.str.replace(r"^\+44", "0", regex=True)
    digits = digits.mask(national.isin(PLACEHOLDER_PHONE_DIGITS) | (digits == ""))
    common = national.str.match(_UK_TEN_DIGITS).fillna(False).astype(bool) & digits.notna()
    out = ("+44" + national.str[1:]).where(common)
    rest = digits.where(~common)
    distinct = rest.dropna().unique()
    table = {d: _e164(d) for d in distinct}
    return out.fillna(rest.map(table, na_action="ignore")).astype("string")


def email(values: pd.Series) -> pd.Series:
    lowered = values.astype("string").str.strip().str.lower()
    well_formed = lowered.str.match(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$").fillna(False).astype(bool)
    return lowered.where(well_formed & ~lowered.isin(PLACEHOLDER_EMAILS))


def distinctive_email_user(
    emails: pd.Series, first_name: pd.Series, surname: pd.Series, variants: pd.Series
) -> pd.Series:
    """The part of an email address before the @, where it says more than the name.

    'kyle.hawkins' or 'dthomas' is built from the name alone, so two people of one name
    may hold it at two providers: it repeats the name's evidence. 'hughes.adam1996' or
    'sam.hamilton72' is not, and the same one at two providers is one person's.
    """
    users = emails.astype("string").str.split("@", n=1).str[0]
    held = users.notna().to_numpy()
    stripped = users[held].str.replace(r"[._+\-]", "", regex=True)
    rest = []
    for user, remainder, first, last, forms in zip(
        users[held],
        stripped,
        first_name[held].astype(object),
        surname[held].astype(object),
        variants[held],
        strict=True,
    ):
        names = {last, first, *(forms if forms is not None else ())}
        parts = {p for n in names if isinstance(n, str) for p in n.split()}
        for part in sorted(parts, key=len, reverse=True):
            remainder = remainder.replace(part, "", 1)
        rest.append(user if _says_more(remainder, parts) else None)
    out = pd.Series(pd.NA, index=emails.index, dtype="string")
    out[held] = rest
    return out


def _says_more(remainder: str, name_parts: set[str]) -> bool:
    """What is left of a user name beyond the record's name says something of its own:
    more than one character, and not the name with a slip in the record ('smith' left
    over where the record's surname is typed 'smiht')."""
    if len(remainder) <= 1:
        return False
    letters = "".join(c for c in remainder if not c.isdigit())
    return len(remainder) - len(letters) > 1 or not any(
        len(part) >= 3 and DamerauLevenshtein.distance(letters, part) <= 1 for part in name_parts
    )


def email_digits(emails: pd.Series) -> pd.Series:
    """The digits of an email address, in order ('' where it has none).

    A slip in the letters of an address leaves its numbers, while relatives' addresses
    differ in them ('davies.jonathan1990@' beside 'davies.jonathan1988@'): the model's
    similar-email level asks for the same numbers.
    """
    return emails.astype("string").str.replace(r"[^0-9]", "", regex=True)


def ni_number(values: pd.Series) -> pd.Series:
    compact = values.astype("string").str.upper().str.replace(r"\s", "", regex=True)
    return compact.where(compact.str.match(_NI_NUMBER).fillna(False).astype(bool))


def uprn(values: pd.Series) -> pd.Series:
    compact = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    valid = compact.str.match(_UPRN).fillna(False).astype(bool)
    kept = compact.where(valid).str.lstrip("0")
    return kept.mask(kept == "")


_SUB_BUILDING = r"^\s*(flat|apartment|apt|unit|room|suite)\s*[0-9a-z]{1,5}\s*$"


def address_key(line_1: pd.Series, line_2: pd.Series) -> pd.Series:
    """The street line, lower-case without punctuation or 'flat' wording.

    Where the first line is only a flat ('Flat 3'), the next line holds the street, so
    'Flat 3' + '12 High Street' and 'Flat 3, 12 High Street' give the same key.
    """
    first = line_1.astype("string")
    only_flat = first.str.lower().str.match(_SUB_BUILDING).fillna(False).astype(bool)
    text = first.where(~only_flat, first + " " + line_2.astype("string").fillna(""))
    text = text.str.lower()
    text = text.str.replace(r"[^a-z0-9 ]", " ", regex=True).str.replace(r"\bflat\b", "", regex=True)
    text = text.str.replace(r"\s+", " ", regex=True).str.strip()
    return text.mask(text == "")


def standardise(canonical: pd.DataFrame, as_of: date | None = None) -> pd.DataFrame:
    """Canonical person records → the columns in :data:`MATCH_COLUMNS`."""
    forenames = without_titles_and_suffixes(name(canonical["first_name"]))
    # A forename field holding only a title ('Mr') holds no forename.
    first = first_token(forenames.mask(forenames.isin(TITLES)))
    surname = without_titles_and_suffixes(name(canonical["surname"]))
    postcodes, postcode_valid = postcode(canonical["postcode"])
    emails = email(canonical["email"])
    variants = name_variants(first)
    out = pd.DataFrame(
        {
            "unique_id": unique_ids(canonical),
            "source_system": canonical["source_system"],
            "source_record_id": canonical["source_record_id"],
            "first_name": first,
            "first_name_variants": variants,
            "middle_names": name(canonical["middle_names"]),
            "surname": surname,
            "surname_parts": surname_parts(surname),
            "first_name_sound": sound(first),
            "surname_sound": sound(surname),
            "date_of_birth": date_of_birth(canonical["date_of_birth"], as_of),
            "postcode": postcodes,
            "postcode_valid": postcode_valid,
            "email": emails,
            "email_user": distinctive_email_user(emails, first, surname, variants),
            "email_digits": email_digits(emails),
            "phone": phone(canonical["phone"]),
            "address_key": address_key(canonical["address_line_1"], canonical["address_line_2"]),
            "town": town(canonical["town"]),
            "uprn": uprn(canonical["uprn"]),
            "ni_number": ni_number(canonical["ni_number"]),
            "sex_from_title": sex_from_title(canonical["title"], canonical["first_name"]),
        }
    )
    return out.reset_index(drop=True)
