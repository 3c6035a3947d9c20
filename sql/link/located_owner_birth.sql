-- ev_located for vehicles and property: the owner's birth date column, no place of the owner.
-- inputs: ev_base (norm_vehicles or norm_property). grain: record. key: record_id.
SELECT coalesce(record_id, 'row:' || _row) AS record_id,
       p_name, p_name_raw, p_name_pinyin, p_id18, p_id_clean, p_id_status, p_birth_date, p_sex,
       owner_birth_date AS own_birth,
       NULL::VARCHAR AS district_code, NULL::VARCHAR AS street, NULL::VARCHAR AS community,
       NULL::VARCHAR AS address, NULL::VARCHAR AS household_id,
       NULL::VARCHAR AS relation, NULL::DATE AS anchor_birth, NULL::VARCHAR AS anchor_sex
FROM ev_base
