"""A subject access response a resident can read (UK GDPR Art. 15): a letter in plain
English with their information as each council system holds it, their combined customer
record with where each value came from, and what Article 15 says a controller must tell
them (purposes, recipients, retention, the source, automated decisions, their rights and
the right to complain to the ICO).

Dates are written as people write them (3 February 1980); no probabilities, internal
column names, staff user names or another person's details. The page prints to A4 from
a browser with nothing cut off. The officer's technical annex (every version, event and
decision) is written beside it by :mod:`golden_record.rights.subject_access`.

The words about the council come from a privacy notice file (``privacy_notice.toml``
beside this module, or the council's own with ``--notice``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from golden_record.golden.held_records import field_values
from golden_record.tomlfile import read_toml

PACKAGED_NOTICE = Path(__file__).with_name("privacy_notice.toml")
NOTICE_TEXTS = (
    "controller",
    "contact",
    "data_protection_officer",
    "lawful_basis",
    "retention",
    "source",
    "automated",
    "complaint",
)
NOTICE_LISTS = ("purposes", "recipients", "rights")

# A combined record's attributes, in a resident's words (others: their name, spaced).
ATTRIBUTE_WORDS = {
    "name": "Name",
    "date_of_birth": "Date of birth",
    "address": "Address",
    "email": "Email address",
    "phone": "Phone number",
    "ni_number": "National Insurance number",
}


class NoticeError(ValueError):
    """The privacy notice file is missing, malformed or lacks a text (named)."""


@dataclass(frozen=True)
class Notice:
    texts: dict[str, str]
    lists: dict[str, list[str]]
    systems: dict[str, str]  # source system → what residents call it
    placeholder: bool
    path: Path

    def system(self, name: str) -> str:
        return self.systems.get(name, name.replace("_", " ").capitalize())


def load_notice(path: Path | None = None) -> Notice:
    """The privacy notice (``path``, else GOLDEN_RECORD_PRIVACY_NOTICE's, else the
    packaged one), every text checked."""
    from golden_record.settings import runtime

    path = Path(path or runtime().privacy_notice or PACKAGED_NOTICE)
    raw = read_toml(path, NoticeError, "privacy notice")
    for key in NOTICE_TEXTS:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise NoticeError(f"{path}: {key} is missing; expected a text, as in {PACKAGED_NOTICE}")
    for key in NOTICE_LISTS:
        value = raw.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise NoticeError(f"{path}: {key} is missing; expected a list of texts")
    systems = raw.get("systems", {})
    if not isinstance(systems, dict) or not all(isinstance(v, str) for v in systems.values()):
        raise NoticeError(f"{path}: [systems] must map each source system to its name")
    return Notice(
        texts={key: raw[key] for key in NOTICE_TEXTS},
        lists={key: list(raw[key]) for key in NOTICE_LISTS},
        systems=dict(systems),
        placeholder=bool(raw.get("placeholder", False)),
        path=path,
    )


def people_date(value: Any) -> str:
    """``2026-11-02``, ``2026-11-02T12:00:00Z``, ``02/11/2026`` or a date → ``2 November
    2026`` (text that is no date is given back as it is)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime | date):
        day = value
    else:
        text = str(value).strip()
        try:
            day = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            # As a source holds it (03/02/1980, day first): read as the nights read it.
            import pandas as pd

            from golden_record.extract.canonical import parsed_dates

            parsed = parsed_dates(pd.Series([text], dtype="string")).iloc[0]
            if pd.isna(parsed):
                return text
            day = parsed
    return f"{day.day} {day:%B %Y}"


def _joined(row: dict[str, Any], columns: tuple[str, ...], sep: str) -> str:
    parts = [str(row[c]).strip() for c in columns if row.get(c) not in (None, "")]
    return sep.join(p for p in parts if p)


def _phone(value: str) -> str:
    """A number kept in international form (+447700900123) as residents write it."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _facts(pairs: list[tuple[str, str]]) -> str:
    rows = "".join(
        f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>"
        for label, value in pairs
        if value
    )
    return f"<dl>{rows}</dl>"


def _record(record: dict[str, Any]) -> str:
    pairs = [
        (label, people_date(value) if label == "Date of birth" else value)
        for label, value in field_values(record)
    ]
    pairs.append(("Reference in this system", str(record.get("source_record_id") or "")))
    pairs.append(("Last updated by this service", people_date(record.get("source_updated_at"))))
    return _facts(pairs)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _held(found: dict[str, Any], notice: Notice) -> str:
    by_system: dict[str, list[dict[str, Any]]] = {}
    for record in found["source_records"]:
        by_system.setdefault(str(record["source_system"]), []).append(record)
    order = [s for s in notice.systems if s in by_system] + sorted(
        s for s in by_system if s not in notice.systems
    )
    if not order:
        return "<p>We hold no records about you in our services' systems.</p>"
    sections = []
    for system in order:
        records = sorted(by_system[system], key=lambda r: str(r.get("source_record_id")))
        count = "one record" if len(records) == 1 else f"{len(records)} records"
        sections.append(
            f'<section class="system"><h3>{html.escape(_capital(notice.system(system)))}</h3>'
            f"<p>This service holds {count} about you.</p>"
            + "".join(_record(r) for r in records)
            + "</section>"
        )
    return "".join(sections)


def _combined(found: dict[str, Any], notice: Notice, attributes: list[tuple[str, tuple]]) -> str:
    record = found.get("golden_record") or {}
    if not record:
        return "<p>We hold no combined customer record for you now.</p>"
    pairs = []
    for name, columns in attributes:
        sep = ", " if name == "address" else " "
        shown = [c for c in columns if c != "uprn"]
        value = _joined(record, tuple(shown), sep)
        if not value:
            continue
        if name == "date_of_birth":
            value = people_date(value)
        elif name == "phone":
            value = _phone(value)
        system = record.get(f"{name}_source_system")
        updated = people_date(record.get(f"{name}_source_updated_at"))
        if system == "steward":
            origin = "as corrected by us at your request"
        elif system:
            origin = f"from {notice.system(str(system))}" + (f", {updated}" if updated else "")
        else:
            origin = ""
        label = ATTRIBUTE_WORDS.get(name, name.replace("_", " ").capitalize())
        pairs.append((label, f"{value} ({origin})" if origin else value))
    return (
        "<p>So that you can tell us something once and each of our services sees it, we "
        "bring the records above together into one customer record. It holds, with where "
        "each detail came from:</p>" + _facts(pairs)
    )


def _changes(corrections: list[dict[str, Any]]) -> str:
    if not corrections:
        return ""
    items = []
    for c in corrections:
        label = ATTRIBUTE_WORDS.get(str(c["field"]), str(c["field"]).replace("_", " "))
        line = f"On {people_date(c['corrected_at'])} we corrected your {label.lower()}"
        if c.get("ended_how") == "source agrees":
            line += "; the service that holds it has since been updated too"
        elif c.get("ended_how") == "withdrawn":
            line += f"; the correction was withdrawn on {people_date(c.get('ended_at'))}"
        items.append(f"<li>{html.escape(line)}.</li>")
    return f"<h2>Corrections we have made</h2><ul>{''.join(items)}</ul>"


def _bullets(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


STYLE = (
    "@page{size:A4;margin:2cm}"
    "body{font-family:Georgia,'Times New Roman',serif;font-size:12pt;line-height:1.45;"
    "max-width:44rem;margin:2rem auto;padding:0 1rem;color:#111}"
    "h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1.05rem}"
    "dl{display:grid;grid-template-columns:minmax(8rem,14rem) 1fr;gap:.2rem 1rem;"
    "margin:.5rem 0 1rem}"
    "dt{font-weight:bold}dd{margin:0;overflow-wrap:anywhere}"
    ".system{break-inside:avoid-page}.meta{color:#333}"
    "@media print{body{margin:0;max-width:none}}"
)


def render(
    found: dict[str, Any],
    notice: Notice,
    attributes: list[tuple[str, tuple]],
    corrections: list[dict[str, Any]],
    today: date,
) -> str:
    """The letter as one HTML page. ``attributes``: the combined record's attributes and
    their columns (survivorship's); ``corrections``: those made for the person."""
    texts, lists = notice.texts, notice.lists
    body = [
        f"<h1>Your personal information: our response to your request</h1>"
        f'<p class="meta">From {html.escape(texts["controller"])}<br>'
        f"Date: {people_date(today)}<br>Our reference: {html.escape(found['golden_id'])}</p>"
        "<p>You asked us for a copy of the personal information we hold about you. This "
        "letter sets out that information, as each of our services holds it, and what the "
        "law (Article 15 of the UK General Data Protection Regulation) says we must tell "
        "you about how we use it.</p>",
        "<h2>The information we hold about you</h2>",
        _held(found, notice),
        "<h2>Your combined customer record</h2>",
        _combined(found, notice, attributes),
        _changes(corrections),
        "<h2>Why we hold it</h2>",
        _bullets(lists["purposes"]),
        f"<p>{html.escape(texts['lawful_basis'])}</p>",
        "<h2>Who receives it</h2>",
        _bullets(lists["recipients"]),
        "<h2>How long we keep it</h2>",
        f"<p>{html.escape(texts['retention'])}</p>",
        "<h2>Where it came from</h2>",
        f"<p>{html.escape(texts['source'])}</p>",
        "<h2>Automated decisions</h2>",
        f"<p>{html.escape(texts['automated'])}</p>",
        "<h2>Your rights</h2><p>You have the right:</p>",
        _bullets(lists["rights"]),
        f"<p>To use any of these rights, contact {html.escape(texts['contact'])}. Our Data "
        f"Protection Officer is {html.escape(texts['data_protection_officer'])}.</p>",
        f"<p>{html.escape(texts['complaint'])}</p>",
    ]
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Your personal information</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    )
