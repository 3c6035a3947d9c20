-- ev_located for kin filings: an ID within a named household (no name, no place).
-- inputs: norm_kin_filings. grain: filing. key: record_id ('kin:' || source row).
SELECT 'kin:' || _row AS record_id,
       p_name, p_name_raw, p_name_pinyin, p_id18, p_id_clean, p_id_status, p_birth_date, p_sex,
       NULL::DATE AS own_birth,
       NULL::VARCHAR AS district_code, NULL::VARCHAR AS street, NULL::VARCHAR AS community,
       NULL::VARCHAR AS address, household_id,
       NULL::VARCHAR AS relation, NULL::DATE AS anchor_birth, NULL::VARCHAR AS anchor_sex
FROM norm_kin_filings
