"""Standardisation rules the skeleton relies on (issue 3 extends these)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from golden_record.standardise import fields as std


def s(*values):
    return pd.Series(list(values), dtype="string")


def test_names_lose_case_punctuation_and_placeholders():
    assert std.name(s("  O'Brien ", "SMITH - JONES", "unknown", "José", None)).tolist() == [
        "obrien",
        "smith-jones",
        pd.NA,
        "jose",
        pd.NA,
    ]


def test_nicknames_carry_their_formal_forms():
    variants = std.name_variants(s("bob", "peggy", "zzyzx"))
    assert "robert" in variants[0]
    assert "margaret" in variants[1]
    assert variants[2] == ["zzyzx"]


def test_dates_of_birth_from_several_formats_with_placeholders_missing():
    out = std.date_of_birth(
        s("1980-02-03", "03/02/1980", "3.2.1980", "1900-01-01", "2090-01-01", "31/02/1980", None),
        as_of=date(2026, 11, 1),
    )
    assert out.tolist()[:3] == ["1980-02-03"] * 3
    assert out.iloc[3:].isna().all()


def test_postcodes_are_normalised_and_invalid_ones_flagged_not_dropped():
    codes, valid = std.postcode(s("sw1a1aa", " EC1A  1BB ", "GIR 0AA", "QX1 1AA", None))
    assert codes.tolist()[:4] == ["SW1A 1AA", "EC1A 1BB", "GIR 0AA", "QX1 1AA"]
    assert valid.tolist() == [True, True, True, False, False]


def test_phones_become_e164_and_placeholders_missing():
    out = std.phone(s("07700 900123", "+44 7700 900123", "(07700) 900 123", "07777777777", "12"))
    assert out.tolist()[:3] == ["+447700900123"] * 3
    assert out.iloc[3:].isna().all()


def test_emails_lower_cased_and_placeholders_missing():
    out = std.email(s("Jane.Doe@Example.ORG", "test@test.com", "not-an-email"))
    assert out.tolist() == ["jane.doe@example.org", pd.NA, pd.NA]


def test_an_email_user_name_counts_only_where_it_says_more_than_the_name():
    emails = s(
        "kyle.hawkins@gmail.com",
        "dthomas@icloud.com",
        "hughes.adam1996@outlook.com",
        "bob_smith@x.org",
        "sam.hamilton72@icloud.com",
        None,
    )
    first = s("kyle", "dave", "adam", "bob", "katherine", "ann")
    surname = s("hawkins", "thomas", "hughes", "smith", "johnson", "lee")
    variants = std.name_variants(first)
    out = std.distinctive_email_user(emails, first, surname, variants)
    assert out.tolist() == [pd.NA, pd.NA, "hughes.adam1996", pd.NA, "sam.hamilton72", pd.NA]


def test_titles_give_a_sex_only_where_they_say_one():
    titles = s("MR", "Mrs.", None, "Dr", None, "miss ", "Ms", None)
    forenames = s("Lewis", "Jane", "Mr L", "Mrs Jo", "Jane", None, "Jo", None)
    # A forename field may carry the title ('Mr L'); Dr and Prof say nothing, and the
    # title field wins over the forename field.
    assert std.sex_from_title(titles, forenames).tolist() == [
        "M",
        "F",
        "M",
        pd.NA,
        pd.NA,
        "F",
        "F",
        pd.NA,
    ]


def test_ni_numbers_follow_hmrc_rules():
    out = std.ni_number(s("AB 12 34 56 C", "QQ123456C", "GB123456A", "AB123456E", "DA123456A"))
    assert out.tolist() == ["AB123456C", pd.NA, pd.NA, pd.NA, pd.NA]


def test_uprn_is_numeric_one_to_twelve_digits():
    out = std.uprn(s("100023336956", "1234567890123", "12A", "10.0"))
    assert out.tolist() == ["100023336956", pd.NA, pd.NA, "10"]


def test_the_uk_fast_path_agrees_with_phonenumbers():
    import random

    import phonenumbers

    rng = random.Random(5)
    numbers = [f"0{rng.randrange(1, 10)}{rng.randrange(10**9):09d}" for _ in range(2000)]
    ours = std.phone(pd.Series(numbers, dtype="string")).tolist()
    theirs = [
        phonenumbers.format_number(phonenumbers.parse(n, "GB"), phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_possible_number(phonenumbers.parse(n, "GB"))
        else None
        for n in numbers
    ]
    assert ours == theirs
