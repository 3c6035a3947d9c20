-- ev_located for declared relatives: placed where the declaring staff member works; the declared
-- relation with the staff member's birth date and sex (from their ID), to check it against the
-- person's age and sex (relation plausibility, scoring.py).
-- inputs: norm_staff_relatives, norm_staff. grain: declaration. key: record_id.
SELECT coalesce(d.record_id, 'row:' || d._row) AS record_id,
       d.p_name, d.p_name_raw, d.p_name_pinyin, d.p_id18, d.p_id_clean, d.p_id_status,
       d.p_birth_date, d.p_sex,
       NULL::DATE AS own_birth,
       s.district_code, s.street, s.community,
       NULL::VARCHAR AS address, NULL::VARCHAR AS household_id,
       d.relation, s.p_birth_date AS anchor_birth, s.p_sex AS anchor_sex
FROM norm_staff_relatives AS d
LEFT JOIN norm_staff AS s ON s.staff_id = d.staff_id
