-- Resident permit holders changed since the watermark. The person is the holder; their
-- permits (vehicles, zones, dates) are not the golden record's, so only the holder's own
-- change time counts. A business permit's holder is a company (its name in last_name, a
-- sole trader's home and mobile beside it): not a resident, so not read, or matching
-- would take it for the resident whose address and phone it shares. Runs on SQLite (text times) and PostgreSQL (a timestamp column, to which
-- the watermark, bound as text, is converted).
SELECT
    h.holder_id,
    h.holder_type,
    h.title,
    h.first_name,
    h.last_name,
    h.email,
    h.mobile,
    h.address_1,
    h.address_2,
    h.town,
    h.postcode,
    h.zone,
    h.updated_at
FROM permit_holder AS h
WHERE h.holder_type = 'RESIDENT' AND h.updated_at > :watermark
ORDER BY h.holder_id
