-- CRM contract v2 (postgresql): each attribute group's provenance gains the source system and
-- the date the source last changed the record; emails, phones and addresses list every
-- distinct value (JSON arrays, newest first).
ALTER TABLE golden_customer ADD COLUMN name_source_system TEXT;
ALTER TABLE golden_customer ADD COLUMN name_source_updated_at TEXT;
ALTER TABLE golden_customer ADD COLUMN date_of_birth_source_system TEXT;
ALTER TABLE golden_customer ADD COLUMN date_of_birth_source_updated_at TEXT;
ALTER TABLE golden_customer ADD COLUMN address_source_system TEXT;
ALTER TABLE golden_customer ADD COLUMN address_source_updated_at TEXT;
ALTER TABLE golden_customer ADD COLUMN email_source_system TEXT;
ALTER TABLE golden_customer ADD COLUMN email_source_updated_at TEXT;
ALTER TABLE golden_customer ADD COLUMN phone_source_system TEXT;
ALTER TABLE golden_customer ADD COLUMN phone_source_updated_at TEXT;
ALTER TABLE golden_customer ADD COLUMN ni_number_source_system TEXT;
ALTER TABLE golden_customer ADD COLUMN ni_number_source_updated_at TEXT;
ALTER TABLE golden_customer ADD COLUMN emails TEXT NOT NULL DEFAULT '[]';
ALTER TABLE golden_customer ADD COLUMN phones TEXT NOT NULL DEFAULT '[]';
ALTER TABLE golden_customer ADD COLUMN addresses TEXT NOT NULL DEFAULT '[]';
