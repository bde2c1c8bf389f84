-- CRM contract, version 2 (v2 adds provenance system/date and value lists): the tables the CRM reads after each nightly publish.
-- Portable SQL: runs unchanged on SQLite (the embedded default) and PostgreSQL.
-- One row per active golden record. Each attribute group's *_source names the source
-- record (source_system:source_record_id) that supplied it, with its system and date;
-- emails, phones and addresses are JSON arrays of every distinct value, newest first.
CREATE TABLE IF NOT EXISTS golden_customer (
    golden_id            TEXT PRIMARY KEY,
    title                TEXT,
    first_name           TEXT,
    middle_names         TEXT,
    surname              TEXT,
    date_of_birth        TEXT,
    address_line_1       TEXT,
    address_line_2       TEXT,
    address_line_3       TEXT,
    town                 TEXT,
    postcode             TEXT,
    uprn                 TEXT,
    email                TEXT,
    phone                TEXT,
    ni_number            TEXT,
    name_source                     TEXT,
    name_source_system              TEXT,
    name_source_updated_at          TEXT,
    date_of_birth_source            TEXT,
    date_of_birth_source_system     TEXT,
    date_of_birth_source_updated_at TEXT,
    address_source                  TEXT,
    address_source_system           TEXT,
    address_source_updated_at       TEXT,
    email_source                    TEXT,
    email_source_system             TEXT,
    email_source_updated_at         TEXT,
    phone_source                    TEXT,
    phone_source_system             TEXT,
    phone_source_updated_at         TEXT,
    ni_number_source                TEXT,
    ni_number_source_system         TEXT,
    ni_number_source_updated_at     TEXT,
    emails               TEXT NOT NULL DEFAULT '[]',
    phones               TEXT NOT NULL DEFAULT '[]',
    addresses            TEXT NOT NULL DEFAULT '[]',
    source_record_count  INTEGER NOT NULL,
    source_systems       TEXT NOT NULL,
    run_key              TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS golden_customer_source (
    source_system              TEXT NOT NULL,
    source_record_id           TEXT NOT NULL,
    golden_id                  TEXT NOT NULL,
    cluster_match_probability  DOUBLE PRECISION,
    run_key                    TEXT NOT NULL,
    PRIMARY KEY (source_system, source_record_id)
);

CREATE INDEX IF NOT EXISTS ix_golden_customer_source_golden ON golden_customer_source (golden_id);

CREATE TABLE IF NOT EXISTS publish_log (
    run_key            TEXT PRIMARY KEY,
    published_at       TEXT NOT NULL,
    golden_records     INTEGER NOT NULL,
    source_records     INTEGER NOT NULL
);
