-- ev_located for the low-income register: the person's district, street and community.
-- inputs: norm_low_income. grain: register record. key: record_id.
SELECT coalesce(record_id, 'row:' || _row) AS record_id,
       p_name, p_name_raw, p_name_pinyin, p_id18, p_id_clean, p_id_status, p_birth_date, p_sex,
       NULL::DATE AS own_birth,
       district_code, street, community,
       NULL::VARCHAR AS address, NULL::VARCHAR AS household_id,
       NULL::VARCHAR AS relation, NULL::DATE AS anchor_birth, NULL::VARCHAR AS anchor_sex
FROM norm_low_income
