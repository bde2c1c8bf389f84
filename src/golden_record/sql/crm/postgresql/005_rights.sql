-- CRM contract v5 (postgresql): residents' rights reach the CRM. The change feed gains
-- three events: 'restricted' (processing restricted: the row leaves the views, the data
-- is kept upstream), 'restriction_lifted' (the row is back) and 'erased' (the resident's
-- data was erased everywhere; the ID is never reused). A publish made for a rights
-- request, not a night, names the request (crm_publish.rights_request).
ALTER TABLE golden_change_feed DROP CONSTRAINT golden_change_feed_event_check;
ALTER TABLE golden_change_feed ADD CONSTRAINT golden_change_feed_event_check
    CHECK (event IN ('created', 'split', 'updated', 'merged', 'retired',
                     'restricted', 'restriction_lifted', 'erased'));
ALTER TABLE crm_publish ADD COLUMN rights_request BIGINT;
