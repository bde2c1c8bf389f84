-- CRM contract v5 (sqlite): residents' rights reach the CRM. The change feed gains three
-- events: 'restricted' (processing restricted: the row leaves the views, the data is
-- kept upstream), 'restriction_lifted' (the row is back) and 'erased' (the resident's
-- data was erased everywhere; the ID is never reused). A publish made for a rights
-- request, not a night, names the request (crm_publish.rights_request).
-- SQLite cannot alter a CHECK constraint: the feed is rebuilt with its rows and indexes.
DROP VIEW crm_change_feed;
CREATE TABLE golden_change_feed_v5 (
    sequence            INTEGER PRIMARY KEY,
    publish_id          INTEGER NOT NULL REFERENCES crm_publish (publish_id),
    run_key             TEXT NOT NULL,
    event               TEXT NOT NULL
        CHECK (event IN ('created', 'split', 'updated', 'merged', 'retired',
                         'restricted', 'restriction_lifted', 'erased')),
    golden_id           TEXT NOT NULL,
    related_golden_id   TEXT,
    changed_attributes  TEXT
);
INSERT INTO golden_change_feed_v5
    (sequence, publish_id, run_key, event, golden_id, related_golden_id, changed_attributes)
SELECT sequence, publish_id, run_key, event, golden_id, related_golden_id, changed_attributes
FROM golden_change_feed;
DROP TABLE golden_change_feed;
ALTER TABLE golden_change_feed_v5 RENAME TO golden_change_feed;
CREATE INDEX ix_golden_change_feed_golden ON golden_change_feed (golden_id);
CREATE INDEX ix_golden_change_feed_run ON golden_change_feed (run_key);
CREATE VIEW crm_change_feed AS
SELECT f.sequence, f.event, f.golden_id, f.related_golden_id, f.changed_attributes,
       f.run_key, f.publish_id, p.published_at
FROM golden_change_feed f
JOIN crm_publish p ON p.publish_id = f.publish_id;

ALTER TABLE crm_publish ADD COLUMN rights_request INTEGER;
