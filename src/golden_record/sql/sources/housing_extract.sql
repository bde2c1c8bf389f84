-- Tenancy people changed since the watermark, with their tenancy's address.
SELECT
    tp.person_ref,
    tp.tenancy_ref,
    tp.role,
    tp.title,
    tp.given_names,
    tp.family_name,
    tp.date_of_birth,
    tp.ni_no,
    tp.mobile,
    tp.home_phone,
    tp.email_address,
    t.uprn,
    t.house_no,
    t.street,
    t.locality,
    t.town,
    t.post_code,
    t.tenancy_start,
    CASE WHEN t.updated > tp.updated THEN t.updated ELSE tp.updated END AS updated
FROM tenancy_person AS tp
JOIN tenancy AS t ON t.tenancy_ref = tp.tenancy_ref
WHERE tp.updated > :watermark OR t.updated > :watermark
ORDER BY tp.person_ref
