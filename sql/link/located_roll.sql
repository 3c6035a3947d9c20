-- ev_located for roll-to-roll linking (the same person covered in two households).
-- inputs: roll_people. grain: roll member. key: record_id (= member_key as text).
SELECT member_key::VARCHAR AS record_id,
       p_name, name AS p_name_raw, p_name_pinyin, p_id18, p_id_clean, p_id_status,
       CASE WHEN birth_source = 'id' THEN birth END AS p_birth_date, p_sex,
       NULL::DATE AS own_birth,
       district_code, street, community, address, household_id,
       NULL::VARCHAR AS relation, NULL::DATE AS anchor_birth, NULL::VARCHAR AS anchor_sex
FROM roll_people
