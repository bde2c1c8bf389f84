-- Housing management system: tenancies per property, and every person on a tenancy
-- (joint tenants and household members), with NI number and date of birth.
CREATE TABLE IF NOT EXISTS tenancy (
    tenancy_ref      TEXT PRIMARY KEY,
    uprn             TEXT,
    house_no         TEXT,
    street           TEXT,
    locality         TEXT,
    town             TEXT,
    post_code        TEXT,
    tenancy_start    TEXT,
    updated          TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS tenancy_person (
    person_ref       TEXT PRIMARY KEY,
    tenancy_ref      TEXT NOT NULL REFERENCES tenancy (tenancy_ref),
    role             TEXT NOT NULL,
    title            TEXT,
    given_names      TEXT,
    family_name      TEXT,
    date_of_birth    TEXT,
    ni_no            TEXT,
    mobile           TEXT,
    home_phone       TEXT,
    email_address    TEXT,
    updated          TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_tenancy_person_updated ON tenancy_person (updated);
CREATE INDEX IF NOT EXISTS ix_tenancy_updated ON tenancy (updated);
