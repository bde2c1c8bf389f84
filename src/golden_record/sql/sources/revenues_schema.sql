-- Revenues (council tax) system: accounts per property, liable parties per account.
-- The shape follows council tax extracts: account reference, title, forename, middle name,
-- surname, a date of birth that is often missing, four address lines, postcode, UPRN and
-- liability dates.
CREATE TABLE IF NOT EXISTS ctax_account (
    account_ref      TEXT PRIMARY KEY,
    property_uprn    TEXT,
    addr_1           TEXT,
    addr_2           TEXT,
    addr_3           TEXT,
    addr_4           TEXT,
    postcode         TEXT,
    liability_start  TEXT,
    liability_end    TEXT,
    last_modified    TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS ctax_liable_party (
    party_id         TEXT PRIMARY KEY,
    account_ref      TEXT NOT NULL REFERENCES ctax_account (account_ref),
    title            TEXT,
    forename         TEXT,
    middle_name      TEXT,
    surname          TEXT,
    dob              TEXT,
    email            TEXT,
    telephone        TEXT,
    last_modified    TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_ctax_party_modified ON ctax_liable_party (last_modified);
CREATE INDEX IF NOT EXISTS ix_ctax_account_modified ON ctax_account (last_modified);
