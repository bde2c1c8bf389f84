-- CRM contract v1 (sqlite): golden customers, their source records, and a log of publishes.
CREATE TABLE golden_customer (
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
    name_source          TEXT,
    date_of_birth_source TEXT,
    address_source       TEXT,
    email_source         TEXT,
    phone_source         TEXT,
    ni_number_source     TEXT,
    source_record_count  INTEGER NOT NULL,
    source_systems       TEXT NOT NULL,
    run_key              TEXT NOT NULL
);

CREATE TABLE golden_customer_source (
    source_system              TEXT NOT NULL,
    source_record_id           TEXT NOT NULL,
    golden_id                  TEXT NOT NULL,
    cluster_match_probability  DOUBLE PRECISION,
    run_key                    TEXT NOT NULL,
    PRIMARY KEY (source_system, source_record_id)
);

CREATE INDEX ix_golden_customer_source_golden ON golden_customer_source (golden_id);

CREATE TABLE publish_log (
    run_key            TEXT PRIMARY KEY,
    published_at       TEXT NOT NULL,
    golden_records     INTEGER NOT NULL,
    source_records     INTEGER NOT NULL
);
