-- Every liable party the extract could return, keys only: a party missing here has been
-- deleted at source (the watermark extract never sees a deleted row).
SELECT p.party_id
FROM ctax_liable_party AS p
JOIN ctax_account AS a ON a.account_ref = p.account_ref
ORDER BY p.party_id
