-- Every tenancy person the extract could return, keys only: a person missing here has
-- been deleted at source (the watermark extract never sees a deleted row).
SELECT tp.person_ref
FROM tenancy_person AS tp
JOIN tenancy AS t ON t.tenancy_ref = tp.tenancy_ref
ORDER BY tp.person_ref
