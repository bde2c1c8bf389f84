"""The golden store's tables (SQLAlchemy Core): SQLite by default, PostgreSQL in production.

Golden records and the cross-reference are kept as versions valid from one run until a
later one (``valid_to_run`` null = current), so the store holds their whole history and
the latest run can be taken back exactly. Attribute values are stored as JSON so that a
change to the survivorship file needs no migration here; the CRM gets real columns.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 4
metadata = MetaData()

# A night's store changes are staged ("pending") until its golden gate passes or a
# steward accepts it ("accepted"); a pending night is taken back when its gate refuses it
# or when a later night is applied. Runs applied outside the nightly gates are accepted
# as they are written.
RUN_STATUSES = ("pending", "accepted")

store_run = Table(
    "store_run",
    metadata,
    Column("run_key", String(64), primary_key=True),
    Column("sequence", Integer, nullable=False, unique=True),
    Column("run_date", String(10), nullable=False),
    Column("input_fingerprint", String(64), nullable=False),
    Column("applied_at", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="accepted"),
)

# Where each run's files are (its folder, ``<data root>/runs/<run_key>``): a later run,
# whatever data root or output folder it writes to, finds the last accepted run's
# standardised records, scoring and model through the store and builds on them.
run_folder = Table(
    "run_folder",
    metadata,
    Column("run_key", String(64), primary_key=True),
    Column("folder", Text, nullable=False),
)

golden_id_registry = Table(
    "golden_id_registry",
    metadata,
    Column("golden_id", String(32), primary_key=True),
    Column("created_run", String(64), ForeignKey("store_run.run_key"), nullable=False),
    Column("created_sequence", Integer, nullable=False),
)

golden_version = Table(
    "golden_version",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("golden_id", String(32), ForeignKey("golden_id_registry.golden_id"), nullable=False),
    Column("status", String(16), nullable=False),  # active | merged | retired
    Column("merged_into", String(32)),
    Column("attributes", Text, nullable=False),  # JSON: values, provenance, lists
    # 64-bit hash of the attributes as written (golden_record.golden.content), so a night
    # finds what changed without serialising every record; NULL in rows from before v3.
    Column("content_hash", String(16)),
    Column("source_record_count", Integer, nullable=False),
    Column("valid_from_run", String(64), nullable=False),
    Column("valid_to_run", String(64)),
)
Index("ix_golden_version_current", golden_version.c.golden_id, golden_version.c.valid_to_run)

xref_version = Table(
    "xref_version",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("unique_id", String(200), nullable=False),
    Column("golden_id", String(32), nullable=False),
    Column("match_probability", Float),
    Column("valid_from_run", String(64), nullable=False),
    Column("valid_to_run", String(64)),
)
Index("ix_xref_version_current", xref_version.c.unique_id, xref_version.c.valid_to_run)
Index("ix_xref_version_golden", xref_version.c.golden_id)

# What each source record held when its golden record was last built (a hash of its
# presentable values): a night rebuilds only the golden records whose records changed,
# arrived, left or moved. Versioned like the rest, so a night taken back restores it.
record_version = Table(
    "record_version",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("unique_id", String(200), nullable=False),
    Column("content_hash", String(16), nullable=False),
    Column("valid_from_run", String(64), nullable=False),
    Column("valid_to_run", String(64)),
)
Index("ix_record_version_current", record_version.c.unique_id, record_version.c.valid_to_run)

change_event = Table(
    "change_event",
    metadata,
    Column("sequence", Integer, primary_key=True, autoincrement=True),
    Column("run_key", String(64), nullable=False),
    Column("event", String(16), nullable=False),  # created | updated | merged | split | retired
    Column("golden_id", String(32), nullable=False),
    Column("other_golden_id", String(32)),  # merged: into; split: from
    Column("changed", Text),  # updated: JSON list of changed attributes
)
Index("ix_change_event_run", change_event.c.run_key)

steward_decision = Table(
    "steward_decision",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("record_a", String(200), nullable=False),
    Column("record_b", String(200), nullable=False),
    Column("decision", String(16), nullable=False),  # same | different
    Column("decided_by", String(200), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("record_a", "record_b", name="uq_steward_decision_pair"),
)

# Decisions a steward undid: the decision as it was, and who undid it, when and why.
# The pair is undecided again (back in the queue, the model's call the next night) and
# may be decided afresh; the audit stays here.
steward_decision_undone = Table(
    "steward_decision_undone",
    metadata,
    Column("undo_id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", Integer, nullable=False),
    Column("record_a", String(200), nullable=False, index=True),
    Column("record_b", String(200), nullable=False, index=True),
    Column("decision", String(16), nullable=False),
    Column("decided_by", String(200), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("undone_by", String(200), nullable=False),
    Column("undone_at", String(32), nullable=False),
    Column("undo_reason", Text, nullable=False),
)

# A steward working on a review item (its ID names its source records), so that two do
# not decide about the same people at once: who and since when. A claim ends when it is
# released, when the item changes (another ID), or CLAIM_HOURS after it was made
# (golden.review_items).
review_claim = Table(
    "review_claim",
    metadata,
    Column("item_id", String(32), primary_key=True),
    Column("claimed_by", String(200), nullable=False),
    Column("claimed_at", String(32), nullable=False),
)

review_item = Table(
    "review_item",
    metadata,
    Column("run_key", String(64), nullable=False, primary_key=True),
    Column("record_a", String(200), nullable=False, primary_key=True),
    Column("record_b", String(200), nullable=False, primary_key=True),
    Column("match_probability", Float),
    Column("match_weight", Float),
    Column("reason", Text),
    Column("detail_hash", String(64)),  # → review_detail; null when there is no scored detail
)

# A pair's scored detail (both records' values and each comparison's weight) is stored
# once per distinct content, not once per night it stays in the queue.
review_detail = Table(
    "review_detail",
    metadata,
    Column("detail_hash", String(64), primary_key=True),
    Column("detail", Text, nullable=False),
)

# The matching model a store's runs are matched with, kept so that every later run uses
# the same one until a retrain is asked for (a new model would churn persistent IDs).
matching_model = Table(
    "matching_model",
    metadata,
    Column("model_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("model", Text, nullable=False),  # Splink's model JSON
    Column("meta", Text, nullable=False),  # training metadata JSON
    Column("kept_at", String(32), nullable=False),
)

# A steward's acceptance of a night a gate refused only for judgements a person can make:
# the golden gate for the size of its changes (a genuine mass merge, say after a source's
# clean-up), the sources gate for a column emptied or many records changed at source (a
# system's own clean-up). It holds for the gate's input as it was accepted: different
# input is judged by the gate again. (Before sources could be accepted, the table was
# night_acceptance, the golden gate's only: golden_record.golden.store.migrate moves it.)
gate_acceptance = Table(
    "gate_acceptance",
    metadata,
    Column("run_key", String(64), primary_key=True),
    Column("gate", String(16), primary_key=True),
    Column("input_fingerprint", String(64), nullable=False),
    Column("accepted_by", String(200), nullable=False),
    Column("accepted_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
)

# Residents' rights requests (UK GDPR Articles 15–18) answered from this store: who asked
# for what, on what legal basis, when, and what was produced. Names no personal data
# beyond the golden ID the request was about.
rights_request = Table(
    "rights_request",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    # access | rectify | withdraw (a correction) | erase | restrict | lift (a restriction)
    Column("kind", String(16), nullable=False),
    Column("golden_id", String(32), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("made_at", String(32), nullable=False),
    Column("produced", Text, nullable=False),  # JSON: what was written, and counts
)

# Source records erased at a resident's request, as a keyed hash of their key
# (golden_record.rights.suppression): the extracts drop a record whose hash is here, so a
# night never re-creates the person from records the sources still hold. No personal data.
suppression = Table(
    "suppression",
    metadata,
    Column("record_hash", String(64), primary_key=True),
    Column("request_id", Integer, nullable=False),
    Column("suppressed_at", String(32), nullable=False),
)

# Restrictions of processing (Art. 18): a restricted golden record is kept here but not
# published; lifting it ends the row (lifted_*), which is kept for the record.
restriction = Table(
    "restriction",
    metadata,
    Column("restriction_id", Integer, primary_key=True, autoincrement=True),
    Column("golden_id", String(32), nullable=False, index=True),
    Column("restricted_by", String(200), nullable=False),
    Column("restricted_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("lifted_by", String(200)),
    Column("lifted_at", String(32)),
    Column("lift_reason", Text),
)

# Stewards' corrections of a golden attribute (Art. 16). One in force overrides
# survivorship for its golden record until the chosen source value agrees with it
# ("source agrees") or the steward withdraws it ("withdrawn").
correction = Table(
    "correction",
    metadata,
    Column("correction_id", Integer, primary_key=True, autoincrement=True),
    Column("golden_id", String(32), nullable=False, index=True),
    Column("field", String(64), nullable=False),
    Column("value", Text, nullable=False),
    Column("previous_value", Text),
    Column("reason", Text, nullable=False),
    Column("corrected_by", String(200), nullable=False),
    Column("corrected_at", String(32), nullable=False),
    Column("ended_at", String(32)),
    Column("ended_how", String(32)),  # withdrawn | source agrees
    Column("ended_by", String(200)),
    Column("ended_run", String(64)),
)
