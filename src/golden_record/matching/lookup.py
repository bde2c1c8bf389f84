""" "Do we already know this person?": one person's details scored against the golden
records of the last accepted night, as the portal's sign-up asks before it makes an
account.

The night's standardised records are registered with Splink once, with their name
frequencies; a question is then one record, standardised as a source record would be,
scored against them with Splink's ``predict_between`` and the night's own blocking rules
and model, so it is judged as the night would judge a new record. The answers are the
golden IDs of the records it matched, best first, each with its match probability and
the comparisons that weighed most. The details asked about are never logged or kept.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from splink import Linker

from golden_record.extract.canonical import parsed_dates
from golden_record.matching.backend import as_frame, default_db_api
from golden_record.matching.inference import load_model
from golden_record.matching.reasons import level_labels, reasons_in_words
from golden_record.run import Run

# What a person may give about themselves (canonical fields, all optional but a name).
ASKED_FIELDS = (
    "title",
    "first_name",
    "middle_names",
    "surname",
    "date_of_birth",
    "email",
    "phone",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "ni_number",
)
LOWEST_PROBABILITY = 0.5
QUESTION_SYSTEM = "portal"


# Candidates for a question come from the night's blocking rules and from these keys,
# chosen for search: a person asked for by name and postcode alone, or with a slip in any
# one field, shares at least one of them with their records (the night's rules are made to
# pair records cheaply, not to find a person from a few details).
def _same(*expressions: str) -> str:
    """A key as a blocking rule: each expression (of ``{s}``, the side) equal on both."""
    return " AND ".join(f"{e.format(s='l')} = {e.format(s='r')}" for e in expressions)


FIRST, SURNAME = "{s}.first_name", "{s}.surname"
FIRST_SOUND, SURNAME_SOUND = "{s}.first_name_sound", "{s}.surname_sound"
POSTCODE, BIRTH = "{s}.postcode", "{s}.date_of_birth"
BIRTH_YEAR = "SUBSTRING(CAST({s}.date_of_birth AS VARCHAR), 1, 4)"
OUTWARD, INWARD = "SPLIT_PART({s}.postcode, ' ', 1)", "SPLIT_PART({s}.postcode, ' ', 2)"
INITIALS = ("SUBSTRING({s}.first_name, 1, 1)", "SUBSTRING({s}.surname, 1, 1)")
SEARCH_RULES = (
    _same(SURNAME, POSTCODE),
    _same(SURNAME_SOUND, POSTCODE),
    _same(FIRST_SOUND, POSTCODE),
    _same(FIRST, SURNAME),
    _same(SURNAME, BIRTH),
    _same(FIRST_SOUND, BIRTH),
    _same(POSTCODE, BIRTH),
    _same(FIRST_SOUND, SURNAME_SOUND, BIRTH_YEAR),
    _same(FIRST_SOUND, SURNAME_SOUND, OUTWARD),
    _same("{s}.address_key", POSTCODE),
    # Slips seldom touch a name's first letter (Soundex rests on it too): the initials
    # with one more detail that a slip elsewhere leaves whole, the year of birth or
    # either half of the postcode. At a million records each finds tens, not thousands.
    _same(*INITIALS, BIRTH_YEAR),
    _same(*INITIALS, OUTWARD),
    _same(*INITIALS, INWARD),
    # And with both names mistyped: the year of birth with either half of the postcode.
    _same(BIRTH_YEAR, OUTWARD),
    _same(BIRTH_YEAR, INWARD),
    _same("{s}.email"),
    _same("{s}.phone"),
    _same("{s}.ni_number"),
)


class LookupError_(ValueError):
    """The question or the night to answer it from is unusable (said in one line)."""


@dataclass(frozen=True)
class Candidate:
    golden_id: str
    match_probability: float
    match_weight: float
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "golden_id": self.golden_id,
            "match_probability": round(self.match_probability, 6),
            "match_weight": round(self.match_weight, 2),
            "reasons": self.reasons,
        }


def latest_accepted(runs_root: Path) -> Run | None:
    """The latest night a gate accepted, with golden records to answer from."""
    if not runs_root.is_dir():
        return None
    for key in sorted((p.name for p in runs_root.iterdir() if p.is_dir()), reverse=True):
        run = Run.of(key, root=runs_root.parent)
        if run.accepted_mark.is_file() and run.golden.xref.is_file():
            return run
    return None


def _equalities(rule: str) -> list[tuple[str, str]] | None:
    """A blocking rule as its pairs of (question side, record side) SQL expressions, when
    it is a conjunction of equalities between an ``l.`` and an ``r.`` expression (every
    rule of the packaged and trained models is); None otherwise."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(rule, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    parts = list(tree.unnest().flatten()) if isinstance(tree.unnest(), exp.And) else [tree]
    sides = []
    for part in parts:
        part = part.unnest()
        if not isinstance(part, exp.EQ):
            return None
        tables = [{c.table for c in side.find_all(exp.Column)} for side in (part.left, part.right)]
        if tables == [{"l"}, {"r"}]:
            sides.append((part.left.sql("duckdb"), part.right.sql("duckdb")))
        elif tables == [{"r"}, {"l"}]:
            sides.append((part.right.sql("duckdb"), part.left.sql("duckdb")))
        else:
            return None
    return sides


def _columns_of(rule: str) -> set[str]:
    import sqlglot
    from sqlglot import exp

    return {c.name for c in sqlglot.parse_one(rule, read="duckdb").find_all(exp.Column)}


def _key(expressions: list[str]) -> str:
    # NULL when any part is: SQL equality never pairs a missing value.
    return " || chr(31) || ".join(f"CAST({e} AS VARCHAR)" for e in expressions)


class _BlockingKeys:
    """Each blocking rule's key for every record, indexed, so a question finds the
    records a rule pairs it with by a lookup per rule instead of a scan of the population
    (a scan of a million records with every rule took 106 ms a question; this, about 5)."""

    def __init__(self, connection: Any, records: Any, rules: list[str]):
        import pyarrow as pa

        self.connection = connection
        self.records = records.append_column(
            "lookup_position", pa.array(range(records.num_rows), type=pa.int64())
        )
        connection.register("lookup_keyed_population", self.records)
        self.keys: list[tuple[str, str]] = []  # (key table, the question's key SQL)
        self.scanned: list[str] = []  # rules that are not plain equalities
        for number, rule in enumerate(rules):
            sides = _equalities(rule)
            if sides is None:
                self.scanned.append(rule)
                continue
            table = f"lookup_key_{number}"
            connection.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM (SELECT "
                f"{_key([r for _, r in sides])} AS k, lookup_position AS position "
                "FROM lookup_keyed_population AS r) WHERE k IS NOT NULL"
            )
            connection.execute(f"CREATE INDEX {table}_k ON {table} (k)")
            self.keys.append((table, _key([left for left, _ in sides])))

    def nearby(self, question_table: str) -> Any:
        """The records any rule pairs with each question (an Arrow table, a record once
        for each question it is near, with that question's ``lookup_asked``)."""
        import pyarrow as pa

        pairs: set[tuple[int, int]] = set()  # (the question's lookup_asked, position)
        if self.keys:
            listed = ", ".join(f"{sql} AS k{i}" for i, (_, sql) in enumerate(self.keys))
            asked = self.connection.execute(
                f"SELECT lookup_asked, {listed} FROM {question_table} AS l"
            ).fetchall()
            for question, *values in asked:
                for (table, _), value in zip(self.keys, values, strict=True):
                    if value is None:
                        continue
                    # A point lookup on the index: a join would scan every key.
                    found = self.connection.execute(
                        f"SELECT position FROM {table} WHERE k = ?", [value]
                    ).fetchall()
                    pairs.update((question, row[0]) for row in found)
        if self.scanned:
            rules = " OR ".join(f"({rule})" for rule in self.scanned)
            found = self.connection.execute(
                f"SELECT l.lookup_asked, r.lookup_position FROM {question_table} AS l, "
                f"lookup_keyed_population AS r WHERE {rules}"
            ).fetchall()
            pairs.update((row[0], row[1]) for row in found)
        ordered = sorted(pairs)
        taken = self.records.take(pa.array([p for _, p in ordered], type=pa.int64()))
        return taken.drop_columns(["lookup_position"]).append_column(
            "lookup_asked", pa.array([q for q, _ in ordered], type=pa.int64())
        )


class _Scoring:
    """Questions scored against their nearby records by Splink's own SQL, generated by
    Splink for the first question and run by DuckDB for each after, as a prepared
    statement is: the tables keep their names and the model is the same, so the SQL is
    too (Splink generating it took two thirds of a question's time: describing the
    tables, parsing each column with sqlglot). Kept for each probability floor asked."""

    QUESTIONS, NEARBY = "lookup_questions", "lookup_nearby"
    _slots = itertools.count()  # a name Splink has not seen, for each preparing
    # Splink asking DuckDB what the tables hold, for the SQL it is writing.
    DESCRIBING = ("PRAGMA ", "SELECT column_name FROM information_schema")

    def __init__(self, linker: Any, db_api: Any):
        self.linker, self.db_api = linker, db_api
        # Per floor: the tables' names (Splink lets a name be registered once) and SQL.
        self.prepared: dict[float | None, tuple[str, str, list[str]]] = {}

    def score(self, questions: Any, nearby: Any, lowest: float | None) -> pd.DataFrame:
        """Each question's pairs with the nearby records it was found with (Arrow
        tables joined on ``lookup_asked``), as Splink's ``predict_between`` scores them."""
        if lowest not in self.prepared:
            return self._by_splink(questions, nearby, lowest)
        asked, near, statements = self.prepared[lowest]
        con = self.db_api._con
        con.register(asked, questions)
        con.register(near, nearby)
        try:
            for statement in statements[:-1]:
                con.execute(statement)
            scored: pd.DataFrame = con.sql(statements[-1]).arrow().read_all().to_pandas()
            return scored
        finally:
            con.unregister(asked)
            con.unregister(near)

    def _by_splink(self, questions: Any, nearby: Any, lowest: float | None) -> pd.DataFrame:
        slot = next(self._slots)
        asked = self.db_api.register(questions, dataset_display_name=f"{self.QUESTIONS}_{slot}")
        near = self.db_api.register(nearby, dataset_display_name=f"{self.NEARBY}_{slot}")
        run = self.db_api._execute_sql_against_backend
        said: list[str] = []

        def recorded(sql: str) -> Any:
            if not sql.lstrip().startswith(self.DESCRIBING):
                said.append(sql)
            return run(sql)

        self.db_api._execute_sql_against_backend = recorded
        try:
            scored = as_frame(
                self.linker.inference.predict_between(
                    asked,
                    near,
                    # The nearby records are exactly those the candidate rules pair with
                    # each question: scored together, in one pass rather than one per rule.
                    blocking_rules_to_generate_predictions=["l.lookup_asked = r.lookup_asked"],
                    threshold_match_probability=lowest,
                    warning_mode="never",
                )
            )
        finally:
            del self.db_api._execute_sql_against_backend  # Splink's own method again
            for table in (asked, near):
                table.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        self.prepared[lowest] = (asked.physical_name, near.physical_name, said)
        return scored


class Lookup:
    """The golden records of one accepted night, ready for questions (one at a time: a
    caller answering several users at once holds a lock, as the plugin does)."""

    def __init__(
        self,
        records: Any,
        golden_of: pd.Series,
        model: dict,
        as_of: date,
        run_key: str | None = None,
    ):
        """``records``: the night's standardised records (an Arrow table); ``golden_of``:
        each record's golden ID by ``unique_id``; ``model``: with the night's blocking
        rules; ``as_of``: the date a question's date of birth is judged against."""
        self.run_key = run_key
        self.as_of = as_of
        self.model = model
        self.rules = [
            rule["blocking_rule"] if isinstance(rule, dict) else str(rule)
            for rule in model["blocking_rules_to_generate_predictions"]
        ]
        self.golden_of = golden_of
        self.level_labels = level_labels(model)
        self.db_api = default_db_api()
        # Arrow straight from the file: no pandas copy of a million records to keep.
        self.population = self.db_api.register(records, dataset_display_name="lookup_population")
        self.linker = Linker(self.population, self.model, log_level=None)
        for column in _tf_columns(self.model):
            self.linker.table_management.compute_tf_table(column)
        self.records = records.num_rows
        present = set(records.column_names)
        searched = [
            rule for rule in SEARCH_RULES if _columns_of(rule) <= present and rule not in self.rules
        ]
        # What finds a question's candidates: the night's rules, and the search keys.
        self.candidate_rules = [*self.rules, *searched]
        self.blocking = _BlockingKeys(self.db_api._con, records, self.candidate_rules)
        self.scoring = _Scoring(self.linker, self.db_api)
        self._asked = itertools.count(1)

    @classmethod
    def of_night(cls, run: Run, model_path: Path | None = None) -> Lookup:
        """The night's records, golden IDs, model and blocking rules (those its scoring
        used, loose rules included)."""
        import pyarrow.parquet as pq

        model_file = model_path or run.match.model
        model = load_model(model_file if model_file.is_file() else None)
        try:
            about = json.loads(run.match.scoring.read_text(encoding="utf-8"))
            rules = list(about.get("blocking_rules") or [])
        except (OSError, ValueError):
            rules = []
        if rules:
            model = {**model, "blocking_rules_to_generate_predictions": rules}
        xref = pd.read_parquet(
            run.golden.xref, columns=["source_system", "source_record_id", "golden_id"]
        )
        ids = (
            xref["source_system"].astype("string") + ":" + xref["source_record_id"].astype("string")
        )
        golden_of = pd.Series(xref["golden_id"].to_numpy(), index=pd.Index(ids))
        return cls(pq.read_table(run.standardised.records), golden_of, model, run.date, run.key)

    def search(self, details: dict[str, Any], limit: int = 5) -> list[Candidate]:
        """Who ``details`` may be, best first, however unsure (a steward or an officer
        looking for a resident: name and postcode alone give the model little, and the
        person they are is still the best candidate); each with its probability."""
        return self.candidates_of([details], limit, lowest=None)[0]

    def search_many(
        self, questions: Sequence[dict[str, Any]], limit: int = 5
    ) -> list[list[Candidate]]:
        """:meth:`search` for each of ``questions`` (a list of people to find), scored
        together in one pass: the answers, in the order asked."""
        return self.candidates_of(questions, limit, lowest=None)

    def candidates(
        self, details: dict[str, Any], limit: int = 5, lowest: float | None = LOWEST_PROBABILITY
    ) -> list[Candidate]:
        """The golden records ``details`` may be, best first (at most ``limit``), those the
        model gives at least ``lowest`` (None: every one found)."""
        return self.candidates_of([details], limit, lowest)[0]

    def candidates_of(
        self,
        questions: Sequence[dict[str, Any]],
        limit: int = 5,
        lowest: float | None = LOWEST_PROBABILITY,
    ) -> list[list[Candidate]]:
        """Each question's candidates, as :meth:`candidates` gives them, in the order
        asked. The questions are standardised together and scored in one Splink call
        (a call costs far more than the few pairs a question brings)."""
        if not questions:
            return []
        import pyarrow as pa

        numbers = [next(self._asked) for _ in questions]
        asked_frame = _questions(questions, numbers, self.as_of)
        asked = pa.Table.from_pandas(asked_frame, preserve_index=False)
        # The records any blocking rule pairs with each question, by key (Splink would
        # join the whole population with its name frequencies), then scored by Splink
        # with the population's frequencies, each question with its own nearby records.
        self.db_api._con.register("lookup_asked_now", asked)
        try:
            nearby = self.blocking.nearby("lookup_asked_now")
        finally:
            self.db_api._con.unregister("lookup_asked_now")
        answers: list[list[Candidate]] = [[] for _ in questions]
        if nearby.num_rows == 0:
            return answers
        found = self.scoring.score(asked, nearby, lowest)
        if found.empty:
            return answers
        position_of = {uid: i for i, uid in enumerate(asked_frame["unique_id"])}
        question_left = found["unique_id_l"].isin(position_of.keys())
        found = found.assign(
            question=found["unique_id_l"]
            .where(question_left, found["unique_id_r"])
            .map(position_of),
            golden_id=self.golden_of.reindex(
                found["unique_id_r"].where(question_left, found["unique_id_l"])
            ).to_numpy(),
        )
        # Ties (two golden records agreeing equally with every detail) in golden ID
        # order: the same answer however the questions were asked.
        found = found.dropna(subset=["golden_id"]).sort_values(
            ["question", "match_weight", "golden_id"], ascending=[True, False, True]
        )
        best = found.drop_duplicates(["question", "golden_id"]).groupby("question").head(limit)
        for _, row in best.iterrows():
            answers[int(row["question"])].append(
                Candidate(
                    golden_id=str(row["golden_id"]),
                    match_probability=float(row["match_probability"]),
                    match_weight=float(row["match_weight"]),
                    reasons=reasons_in_words(row, self.level_labels),
                )
            )
        return answers


def checked_details(details: dict[str, Any]) -> dict[str, Any]:
    """The details of a question, refused (:class:`LookupError_`, naming the field) if
    one is unknown, the surname is missing or a value is not a valid one of its field
    (standardising would drop it and the question be answered without it)."""
    unknown = sorted(set(details) - set(ASKED_FIELDS))
    if unknown:
        raise LookupError_(
            f"unknown field {', '.join(unknown)}: a lookup takes {', '.join(ASKED_FIELDS)}"
        )
    if not str(details.get("surname") or "").strip():
        raise LookupError_("a lookup needs at least a surname")
    row = {column: details.get(column) for column in ASKED_FIELDS}
    asked_birth = str(row["date_of_birth"] or "").strip()
    # A date that is no date (31/31/1962) would be dropped by standardising and the
    # question answered without it. A placeholder a source holds (01/01/1900) is a date,
    # dropped as the night drops it; emails, phones and NI numbers are not refused for
    # the same reason (none@none.com): a resident's details as a system holds them must
    # be askable.
    if asked_birth and pd.isna(parsed_dates(pd.Series([asked_birth], dtype="string")).iloc[0]):
        raise LookupError_(
            f"{row['date_of_birth']!r} is not a valid date_of_birth: expected a date such as "
            "1980-02-03 or 03/02/1980"
        )
    return row


def _questions(
    questions: Sequence[dict[str, Any]], numbers: list[int], as_of: date
) -> pd.DataFrame:
    """The questions as records standardised as a source record would be, each with its
    own ``lookup_asked`` number (and record id from it)."""
    from golden_record.matching.stage import standardise_records

    rows = [checked_details(details) for details in questions]
    canonical = pd.DataFrame(
        [
            {
                **row,
                "source_system": QUESTION_SYSTEM,
                "source_record_id": f"lookup-question-{n}",
                "address_line_3": None,
                "uprn": None,
                "source_updated_at": as_of.isoformat(),
            }
            for row, n in zip(rows, numbers, strict=True)
        ]
    ).astype("string")
    standardised = standardise_records(canonical, as_of=as_of)
    return standardised.assign(lookup_asked=pd.array(numbers, dtype="int64"))


def _tf_columns(model: dict) -> list[str]:
    return sorted(
        {
            level["tf_adjustment_column"]
            for comparison in model["comparisons"]
            for level in comparison.get("comparison_levels", [])
            if level.get("tf_adjustment_column")
        }
    )
