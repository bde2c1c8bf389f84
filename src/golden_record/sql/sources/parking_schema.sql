-- Parking permits system: permit holders (residents, and businesses in a company's name)
-- with their address in a controlled parking zone, and their permits, several per holder
-- (one per vehicle, and visitor permits). Portable DDL: the sample council builds it in
-- SQLite, the tests and compose in PostgreSQL (change times there are real timestamps).
CREATE TABLE IF NOT EXISTS permit_holder (
    holder_id        VARCHAR(12) PRIMARY KEY,
    holder_type      VARCHAR(10) NOT NULL,
    title            VARCHAR(10),
    first_name       VARCHAR(60),
    last_name        VARCHAR(120),
    email            VARCHAR(120),
    mobile           VARCHAR(30),
    address_1        VARCHAR(120),
    address_2        VARCHAR(120),
    town             VARCHAR(60),
    postcode         VARCHAR(12),
    zone             VARCHAR(10),
    created_at       DATE,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS permit (
    permit_no        VARCHAR(12) PRIMARY KEY,
    holder_id        VARCHAR(12) NOT NULL REFERENCES permit_holder (holder_id),
    permit_type      VARCHAR(10) NOT NULL,
    vrm              VARCHAR(10),
    zone             VARCHAR(10),
    valid_from       DATE,
    valid_to         DATE,
    updated_at       TIMESTAMP NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_permit_holder_updated ON permit_holder (updated_at);
CREATE INDEX IF NOT EXISTS ix_permit_holder_id ON permit (holder_id);
