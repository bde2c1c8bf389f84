-- CRM contract v6 (postgresql): a publish can be withdrawn. A run published by mistake (dated
-- years ahead, say) is undone by `golden-record night undo`: its crm_publish rows stay in
-- the log with who withdrew them, when and why, and no longer count as the CRM's latest
-- run, so the nights after it publish again. The undo itself is an ordinary publish of
-- the last good run, its differences in the change feed as usual.
ALTER TABLE crm_publish ADD COLUMN withdrawn_at TEXT;
ALTER TABLE crm_publish ADD COLUMN withdrawn_by TEXT;
ALTER TABLE crm_publish ADD COLUMN withdrawn_reason TEXT;
