-- CRM contract v3 (sqlite): the change feed, a numbered publish log, and the views the CRM
-- reads. Rows now say which run last changed them (changed_in_run), so a night that
-- changes nothing rewrites nothing.
ALTER TABLE golden_customer RENAME COLUMN run_key TO changed_in_run;
ALTER TABLE golden_customer_source RENAME COLUMN run_key TO changed_in_run;

-- One row per publish that changed the CRM (a rerun that changes nothing adds none).
CREATE TABLE crm_publish (
    publish_id        INTEGER PRIMARY KEY,
    run_key           TEXT NOT NULL,
    published_at      TEXT NOT NULL,
    contract_version  INTEGER NOT NULL,
    golden_records    INTEGER NOT NULL,
    source_records    INTEGER NOT NULL,
    events            INTEGER NOT NULL,
    first_sequence    INTEGER,
    last_sequence     INTEGER
);
CREATE INDEX ix_crm_publish_run ON crm_publish (run_key);
INSERT INTO crm_publish
    (publish_id, run_key, published_at, contract_version, golden_records, source_records, events)
SELECT ROW_NUMBER() OVER (ORDER BY published_at, run_key), run_key, published_at, 2,
       golden_records, source_records, 0
FROM publish_log;
DROP TABLE publish_log;

-- What changed between one publish and the next. sequence only ever grows: a consumer
-- keeps the last sequence it processed and asks for the rows after it.
CREATE TABLE golden_change_feed (
    sequence            INTEGER PRIMARY KEY,
    publish_id          INTEGER NOT NULL REFERENCES crm_publish (publish_id),
    run_key             TEXT NOT NULL,
    event               TEXT NOT NULL
        CHECK (event IN ('created', 'split', 'updated', 'merged', 'retired')),
    golden_id           TEXT NOT NULL,
    related_golden_id   TEXT,
    changed_attributes  TEXT
);
CREATE INDEX ix_golden_change_feed_golden ON golden_change_feed (golden_id);
CREATE INDEX ix_golden_change_feed_run ON golden_change_feed (run_key);

-- One row the publisher locks for the length of its transaction, so two publishes never
-- interleave.
CREATE TABLE crm_publish_lock (
    name  TEXT PRIMARY KEY,
    note  TEXT NOT NULL
);
INSERT INTO crm_publish_lock (name, note) VALUES ('publish', 'held by the running publish');

-- The CRM reads these views, not the tables: their columns and order are the contract.
CREATE VIEW crm_golden_customer AS
SELECT golden_id, title, first_name, middle_names, surname, date_of_birth,
       address_line_1, address_line_2, address_line_3, town, postcode, uprn,
       email, phone, ni_number, emails, phones, addresses,
       name_source, name_source_system, name_source_updated_at,
       date_of_birth_source, date_of_birth_source_system, date_of_birth_source_updated_at,
       address_source, address_source_system, address_source_updated_at,
       email_source, email_source_system, email_source_updated_at,
       phone_source, phone_source_system, phone_source_updated_at,
       ni_number_source, ni_number_source_system, ni_number_source_updated_at,
       source_record_count, source_systems, changed_in_run
FROM golden_customer;

CREATE VIEW crm_golden_customer_source AS
SELECT source_system, source_record_id, golden_id, cluster_match_probability, changed_in_run
FROM golden_customer_source;

CREATE VIEW crm_change_feed AS
SELECT f.sequence, f.event, f.golden_id, f.related_golden_id, f.changed_attributes,
       f.run_key, f.publish_id, p.published_at
FROM golden_change_feed f
JOIN crm_publish p ON p.publish_id = f.publish_id;

CREATE VIEW crm_latest_publish AS
SELECT publish_id, run_key, published_at, contract_version, golden_records, source_records,
       events, first_sequence, last_sequence
FROM crm_publish
WHERE publish_id = (SELECT MAX(publish_id) FROM crm_publish);
