-- Every resident permit holder the extract could return, keys only: a holder missing
-- here was deleted at source (or became a business holder).
SELECT h.holder_id
FROM permit_holder AS h
WHERE h.holder_type = 'RESIDENT'
ORDER BY h.holder_id
