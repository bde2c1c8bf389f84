"""The council's source systems as declared in ``sources.toml``, read and checked.

A source system is configuration, not code: its kind (a SQL database, the waste services'
file drop, the portal's JSON API), where it is, its key, how its changes are found, how
its columns map to the canonical person record and what it is for. The packaged file
declares the sample council's four; ``GOLDEN_RECORD_SOURCES`` names a deployment's own.

Every mistake is refused before a night runs, naming the file, the source and the field:
an unknown kind, a missing key, a mapping to a field the canonical record lacks or in a
shape no transform has, a query file that is not there. (Two sources with one name are a
TOML error, named with its line.) A mapped column the system itself lacks is named by the
night that reads it (:mod:`golden_record.extract.sources.mapping`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from golden_record.extract.canonical import CANONICAL_COLUMNS
from golden_record.paths import PACKAGE_ROOT, SQL_DIR

PACKAGED = PACKAGE_ROOT / "extract" / "sources.toml"
KINDS = ("sql", "csv_drop", "http_json")
# The canonical fields a declaration may map (the system and record id are the extract's).
MAPPABLE_FIELDS = CANONICAL_COLUMNS[2:]  # all but source_system and source_record_id
# The transforms a mapping entry may name (its one required key first), and the other
# keys each takes: golden_record.extract.mapping applies them.
TRANSFORMS: dict[str, tuple[str, ...]] = {
    "first_of": (),
    "join": ("sep",),
    "first_word": (),
    "after_first_word": (),
    "line": ("lines",),
    "town_of_lines": (),
    "date": ("format",),
    "code": ("values",),
    "name_part": ("of",),
    "comma_line": ("of",),
    "comma_town": (),
}
NAME_PARTS = ("title", "first_name", "surname")
_GOVERNANCE = ("purpose", "lawful_basis", "data_owner")
_KNOWN_FIELDS = frozenset(
    {"kind", "connection", "key", "watermark", "query", "keys_query", "canonical", "api"}
    | {"drop", "trust"}
    | set(_GOVERNANCE)
    | {"retention_days", "categories"}
)
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class DeclarationError(ValueError):
    """A source declaration that cannot be used: says the file, the source and the field."""

    def __init__(self, path: Path, source: str | None, field_name: str | None, problem: str):
        where = ", ".join(
            part
            for part in (
                str(path),
                f"source {source!r}" if source else "",
                f"field {field_name!r}" if field_name else "",
            )
            if part
        )
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class HttpPaging:
    """How an ``http_json`` source's API pages (its ``[sources.NAME.api]`` table)."""

    endpoint: str  # the list's path under the connection's base URL, e.g. /customers
    records_field: str = "data"  # the page's list of records
    cursor_field: str = "next_cursor"  # the next page's cursor, null on the last page
    cursor_param: str = "cursor"
    page_size_param: str = "page_size"
    since_param: str = "updated_since"  # asks for records changed after the watermark
    # Asked for with the key walk (a sparse fieldset, e.g. fields = "id").
    keys_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileDrop:
    """How a ``csv_drop`` source's files are named and checked (``[sources.NAME.drop]``)."""

    file: str  # the file's name, its date written YYYYMMDD: waste_contacts_YYYYMMDD.csv
    # Columns holding one value each: a comma or quote in one means fields merged.
    single_value_columns: tuple[str, ...] = ()
    # column -> (regular expression a filled value matches, what it says it expected)
    formats: Mapping[str, tuple[str, str]] = field(default_factory=dict)


_HTTP_FIELDS = {
    "endpoint": "endpoint",
    "records": "records_field",
    "next_cursor": "cursor_field",
    "cursor_param": "cursor_param",
    "page_size_param": "page_size_param",
    "since_param": "since_param",
    "keys_params": "keys_params",
}


@dataclass(frozen=True)
class SourceDeclaration:
    """One source system as declared."""

    name: str
    kind: str
    connection: str
    key: str
    watermark: str | None
    # The SQL itself (read from its file when the declaration names one), sql kind only.
    query: str | None
    keys_query: str | None
    # canonical field -> a column name, or a transform's table (see sources.toml)
    canonical: Mapping[str, str | Mapping[str, Any]]
    purpose: str
    lawful_basis: str
    data_owner: str
    retention_days: int
    categories: tuple[str, ...] = field(default_factory=tuple)
    declared_in: Path = PACKAGED
    # How its API pages (http_json sources only).
    http: HttpPaging = field(default_factory=lambda: HttpPaging(endpoint="/"))
    # How its files are named and checked (csv_drop sources only).
    drop: FileDrop = field(default_factory=lambda: FileDrop(file="YYYYMMDD"))
    # Survivorship attribute -> its place in that attribute's trust ranking (1: first),
    # for rankings survivorship.toml writes without this source.
    trust: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceDeclarations:
    """Every declared source, in the file's order."""

    path: Path
    sources: tuple[SourceDeclaration, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(source.name for source in self.sources)

    def __getitem__(self, name: str) -> SourceDeclaration:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(
            f"{name!r} is not a source declared in {self.path} (declared: {', '.join(self.names)})"
        )


def declared_sources(path: Path | None = None) -> SourceDeclarations:
    """The declarations in ``path``, else the file ``GOLDEN_RECORD_SOURCES`` names, else
    the packaged sample council's."""
    if path is None:
        from golden_record.settings import runtime

        path = runtime().sources or PACKAGED
    return _read(Path(path).resolve())


def source_systems() -> tuple[str, ...]:
    """The declared source systems' names, in the file's order."""
    return declared_sources().names


def record_id_problem(value: str) -> str | None:
    """Why ``value`` is not a record's ``system:id`` as stewards and officers write it,
    or None when it is one. (Whether the record exists is the store's to say.)"""
    system, colon, record = value.partition(":")
    if colon and system and record:
        return None
    systems = source_systems()
    return (
        f"{value!r} is not a record id: write it as system:id, e.g. {systems[0]}:"
        f"{value or 'R123'} (the system one of {', '.join(systems)})"
    )


def mapped_columns(declaration: SourceDeclaration) -> list[str]:
    """Every native column the declaration's mapping reads, in its order."""
    seen: dict[str, None] = {}
    for entry in declaration.canonical.values():
        if isinstance(entry, str):
            seen.setdefault(entry, None)
            continue
        for option, value in entry.items():
            if option in ("sep", "format", "values", "name_part") or isinstance(value, int):
                continue
            for column in [value] if isinstance(value, str) else value:
                seen.setdefault(column, None)
    return list(seen)


@cache
def _read_cached(path: Path, modified: int, size: int) -> SourceDeclarations:
    return _parse(path)


def _read(path: Path) -> SourceDeclarations:
    # Read again when the file changes (a long-running API server, an edited deployment).
    try:
        stat = path.stat()
    except OSError as exc:
        raise DeclarationError(path, None, None, f"cannot read the file: {exc}") from None
    return _read_cached(path, stat.st_mtime_ns, stat.st_size)


def _parse(path: Path) -> SourceDeclarations:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeclarationError(path, None, None, f"cannot read the file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        # A table declared twice (two sources with one name) is a TOML error with its line.
        raise DeclarationError(path, None, None, f"not valid TOML: {exc}") from None
    if document.get("version") != 1:
        raise DeclarationError(path, None, "version", "expected version = 1")
    tables = document.get("sources")
    if not isinstance(tables, dict) or not tables:
        raise DeclarationError(path, None, "sources", "no [sources.NAME] table declared")
    return SourceDeclarations(
        path=path, sources=tuple(_source(path, name, table) for name, table in tables.items())
    )


def _source(path: Path, name: str, table: Any) -> SourceDeclaration:
    def fail(field_name: str | None, problem: str) -> DeclarationError:
        return DeclarationError(path, name, field_name, problem)

    if not name or not set(name) <= _NAME_CHARACTERS or not name[0].isalpha():
        raise fail(None, "a source's name is lower-case letters, digits and _ (it keys records)")
    if not isinstance(table, dict):
        raise fail(None, "expected a table of fields")
    unknown = sorted(set(table) - _KNOWN_FIELDS)
    if unknown:
        raise fail(
            unknown[0], f"not a field of a source (fields: {', '.join(sorted(_KNOWN_FIELDS))})"
        )

    def text(field_name: str, required: bool = True) -> str | None:
        value = table.get(field_name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(field_name, "missing: expected text" if value is None else "expected text")
        return value.strip()

    kind = text("kind")
    if kind not in KINDS:
        raise fail("kind", f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    key = text("key")
    watermark = text("watermark", required=False)
    query = keys_query = None
    if kind == "sql":
        query = _sql(path, text("query") or "", fail, "query")
        if watermark:
            keys_query = _sql(path, text("keys_query") or "", fail, "keys_query")
    elif "query" in table or "keys_query" in table:
        raise fail("query" if "query" in table else "keys_query", f"a {kind} source has no query")
    http = HttpPaging(endpoint="/")
    if kind == "http_json":
        http = _http(table.get("api"), fail)
    elif "api" in table:
        raise fail("api", f"a {kind} source has no API")
    drop = FileDrop(file="YYYYMMDD")
    if kind == "csv_drop":
        drop = _drop(table.get("drop"), fail)
        if watermark:
            raise fail("watermark", "a csv_drop source is a full snapshot each night")
    elif "drop" in table:
        raise fail("drop", f"a {kind} source has no drop files")
    retention = table.get("retention_days")
    if not isinstance(retention, int) or isinstance(retention, bool) or retention < 1:
        raise fail("retention_days", "expected a whole number of days, at least 1")
    categories = table.get("categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise fail("categories", "expected a list of text")
    canonical = table.get("canonical", {})
    if kind == "sql" and not canonical:
        raise fail("canonical", "a sql source maps its columns: add [sources.NAME.canonical]")
    return SourceDeclaration(
        name=name,
        kind=kind,
        connection=text("connection") or "",
        key=key or "",
        watermark=watermark,
        query=query,
        keys_query=keys_query,
        canonical=_mapping(canonical, fail),
        purpose=text("purpose") or "",
        lawful_basis=text("lawful_basis") or "",
        data_owner=text("data_owner") or "",
        retention_days=retention,
        categories=tuple(categories),
        declared_in=path,
        http=http,
        drop=drop,
        trust=_trust(table.get("trust", {}), fail),
    )


def _trust(table: Any, fail: Any) -> dict[str, int]:
    if not isinstance(table, dict):
        raise fail("trust", "expected a table: attribute = place in its trust ranking (1: first)")
    for attribute, place in table.items():
        if not isinstance(place, int) or isinstance(place, bool) or place < 1:
            raise fail(f"trust.{attribute}", "expected a place in the ranking, 1 or more")
    return dict(table)


def _drop(table: Any, fail: Any) -> FileDrop:
    if not isinstance(table, dict):
        raise fail("drop", "a csv_drop source names its files: add [sources.NAME.drop]")
    unknown = sorted(set(table) - {"file", "single_value_columns", "formats"})
    if unknown:
        raise fail(
            f"drop.{unknown[0]}", "not a field of drop (file, single_value_columns, formats)"
        )
    named = table.get("file")
    if not isinstance(named, str) or "YYYYMMDD" not in named or "/" in named:
        raise fail("drop.file", "expected a file name with its date as YYYYMMDD")
    single = table.get("single_value_columns", [])
    if not isinstance(single, list) or not all(isinstance(c, str) for c in single):
        raise fail("drop.single_value_columns", "expected a list of column names")
    formats: dict[str, tuple[str, str]] = {}
    for column, spec in (table.get("formats") or {}).items():
        where = f"drop.formats.{column}"
        if not isinstance(spec, dict) or not all(
            isinstance(spec.get(k), str) for k in ("pattern", "expected")
        ):
            raise fail(where, "expected { pattern = regular expression, expected = what it is }")
        try:
            re.compile(spec["pattern"])
        except re.error as exc:
            raise fail(where, f"not a regular expression: {exc}") from None
        formats[column] = (spec["pattern"], spec["expected"])
    return FileDrop(file=named, single_value_columns=tuple(single), formats=formats)


def _http(table: Any, fail: Any) -> HttpPaging:
    if not isinstance(table, dict):
        raise fail("api", "an http_json source says how its API pages: add [sources.NAME.api]")
    unknown = sorted(set(table) - set(_HTTP_FIELDS))
    if unknown:
        raise fail(f"api.{unknown[0]}", f"not a field of api ({', '.join(_HTTP_FIELDS)})")
    values: dict[str, Any] = {}
    for name, attribute in _HTTP_FIELDS.items():
        if name not in table:
            continue
        value = table[name]
        if name == "keys_params":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise fail("api.keys_params", 'expected a table of text, e.g. { fields = "id" }')
        elif not isinstance(value, str) or not value.strip():
            raise fail(f"api.{name}", "expected text")
        values[attribute] = value
    if "endpoint" not in values:
        raise fail("api.endpoint", "missing: the list's path, e.g. /customers")
    if not values["endpoint"].startswith("/"):
        raise fail("api.endpoint", "expected a path starting with /")
    return HttpPaging(**values)


def _sql(path: Path, value: str, fail: Any, field_name: str) -> str:
    """The SQL a query field gives: a ``.sql`` file beside the declaration or among the
    package's, else the text itself."""
    if not value.endswith(".sql"):
        return value
    for folder in (path.parent, SQL_DIR / "sources"):
        candidate = folder / value
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise fail(
        field_name,
        f"query file {value} not found beside the declaration or in {SQL_DIR / 'sources'}",
    )


def _mapping(canonical: Any, fail: Any) -> dict[str, str | dict[str, Any]]:
    if not isinstance(canonical, dict):
        raise fail("canonical", "expected a table: canonical field = native column or transform")
    out: dict[str, str | dict[str, Any]] = {}
    for target, entry in canonical.items():
        if target not in MAPPABLE_FIELDS:
            raise fail(
                f"canonical.{target}",
                f"not a field of the canonical record (fields: {', '.join(MAPPABLE_FIELDS)})",
            )
        if isinstance(entry, str) and entry.strip():
            out[target] = entry.strip()
            continue
        if not isinstance(entry, dict):
            raise fail(f"canonical.{target}", "expected a column name or a transform's table")
        named = [t for t in TRANSFORMS if t in entry]
        if len(named) != 1:
            raise fail(
                f"canonical.{target}",
                f"expected one transform of {', '.join(TRANSFORMS)}, found "
                f"{', '.join(named) or 'none'}",
            )
        transform = named[0]
        extra = sorted(set(entry) - {transform, *TRANSFORMS[transform]})
        if extra:
            raise fail(f"canonical.{target}.{extra[0]}", f"not an option of {transform}")
        problem = _transform_problem(transform, entry)
        if problem:
            raise fail(f"canonical.{target}.{transform}", problem)
        out[target] = dict(entry)
    return out


def _columns(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _transform_problem(transform: str, entry: Mapping[str, Any]) -> str | None:
    value = entry[transform]
    if transform == "name_part":
        if value not in NAME_PARTS:
            return f"expected one of {', '.join(NAME_PARTS)}"
        return None if isinstance(entry.get("of"), str) else "expected of = the name column"
    if transform == "comma_line":
        if not isinstance(value, int) or not 1 <= value <= 3:
            return "expected 1, 2 or 3"
        return None if isinstance(entry.get("of"), str) else "expected of = the address column"
    if transform in ("first_of", "join", "town_of_lines"):
        return None if _columns(value) else "expected a list of column names"
    if transform == "line":
        if not _columns(entry.get("lines")):
            return "expected lines = [the address line columns]"
        if not isinstance(value, int) or not 1 <= value <= 3:
            return "expected 1, 2 or 3"
        return None
    if transform == "code":
        values = entry.get("values")
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return "expected values = { code = text, ... }"
    if transform == "date" and not isinstance(entry.get("format", ""), str):
        return "expected format as text, such as %d/%m/%Y"
    return None if isinstance(value, str) and value.strip() else "expected a column name"
