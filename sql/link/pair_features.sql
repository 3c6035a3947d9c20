-- pair_features: both sides of each candidate pair, for scoring in Python (rapidfuzz, numpy).
-- inputs: pairs, evidence, roll_people, name_frequency, roll_counts. grain: pair.
-- key: (record_id, member_key).
-- name_n / pinyin_n: how many people in all loaded datasets carry the roll member's name / pinyin.
-- roll_name_n: how many roll people carry the roll member's name; r_community_n, r_street_n,
-- r_district_n: roll people in the member's community, street, district; roll_n: all of them
-- (how many namesakes a place is expected to hold by chance: scoring.expected_namesakes);
-- r_birth_n: roll people born on the member's birth date (probability.py: u of a birth date).
SELECT p.record_id,
       p.member_key,
       r.person_key,
       e.p_id18 AS e_id18, r.p_id18 AS r_id18,
       e.p_id_clean AS e_clean, r.p_id_clean AS r_clean,
       e.p_id_status AS e_status, r.p_id_status AS r_status,
       e.p_name AS e_name, r.p_name AS r_name, e.p_name_raw AS e_name_raw,
       e.p_name_pinyin AS e_pinyin, r.p_name_pinyin AS r_pinyin,
       e.birth AS e_birth, r.birth AS r_birth,
       e.birth_source AS e_birth_source, r.birth_source AS r_birth_source,
       e.p_sex AS e_sex, r.p_sex AS r_sex,
       e.district_code AS e_district, r.district_code AS r_district,
       e.street AS e_street, r.street AS r_street,
       e.community AS e_community, r.community AS r_community,
       e.address AS e_address,
       e.relation AS e_relation, e.anchor_birth AS e_anchor_birth, e.anchor_sex AS e_anchor_sex,
       coalesce(nf.n, 0) AS name_n,
       coalesce(pf.n, 0) AS pinyin_n,
       coalesce(rn.n, 0) AS roll_name_n,
       coalesce(rc.n, 0) AS r_community_n,
       coalesce(rs.n, 0) AS r_street_n,
       coalesce(rd.n, 0) AS r_district_n,
       coalesce(rb.n, 0) AS r_birth_n,
       (SELECT n FROM roll_counts WHERE kind = 'roll') AS roll_n
FROM pairs AS p
JOIN evidence AS e USING (record_id)
JOIN roll_people AS r USING (member_key)
LEFT JOIN name_frequency AS nf ON nf.key = r.p_name AND nf.kind = 'name'
LEFT JOIN name_frequency AS pf ON pf.key = r.p_name_pinyin AND pf.kind = 'pinyin'
LEFT JOIN roll_counts AS rn ON rn.kind = 'name' AND rn.key1 = r.p_name
LEFT JOIN roll_counts AS rc
  ON rc.kind = 'community' AND rc.key1 IS NOT DISTINCT FROM r.district_code
 AND rc.key2 IS NOT DISTINCT FROM r.street AND rc.key3 IS NOT DISTINCT FROM r.community
LEFT JOIN roll_counts AS rs
  ON rs.kind = 'street' AND rs.key1 IS NOT DISTINCT FROM r.district_code
 AND rs.key2 IS NOT DISTINCT FROM r.street
LEFT JOIN roll_counts AS rd ON rd.kind = 'district' AND rd.key1 IS NOT DISTINCT FROM r.district_code
LEFT JOIN roll_counts AS rb ON rb.kind = 'birth' AND rb.key1 = CAST(r.birth AS VARCHAR)
ORDER BY p.record_id, p.member_key
