-- CRM contract v4 (sqlite): each golden customer row keeps a hash of the values the
-- publisher wrote, so a night stages and compares only the rows whose hash differs
-- instead of the whole population. Not in the views: the CRM reads what it read before.
-- Rows published before v4 hold NULL and are compared in full once.
ALTER TABLE golden_customer ADD COLUMN row_hash TEXT;
