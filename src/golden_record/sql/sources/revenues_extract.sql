-- Liable parties changed since the watermark, with their account's address.
-- A party counts as changed when either its own row or its account's row changed.
SELECT
    p.party_id,
    p.account_ref,
    p.title,
    p.forename,
    p.middle_name,
    p.surname,
    p.dob,
    p.email,
    p.telephone,
    a.property_uprn,
    a.addr_1,
    a.addr_2,
    a.addr_3,
    a.addr_4,
    a.postcode,
    a.liability_start,
    a.liability_end,
    CASE WHEN a.last_modified > p.last_modified THEN a.last_modified ELSE p.last_modified END
        AS last_modified
FROM ctax_liable_party AS p
JOIN ctax_account AS a ON a.account_ref = p.account_ref
WHERE p.last_modified > :watermark OR a.last_modified > :watermark
ORDER BY p.party_id
