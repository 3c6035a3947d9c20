-- ADD_CANDIDATE evidence: low-income register people below their standard and not on the roll.
-- Inputs: norm_low_income, rules_standard, links (dataset low_income).
-- Grain: one row per register record. Key: record_id.
-- Covered: the record, or another record of the same person (repaired ID), is linked to a
-- roll member. Below: per_capita_income < the standard of the register's district/category.
-- Amount: (standard - per-capita income) x household size (1 when the size is blank).
WITH covered_records AS (
    SELECT DISTINCT record_id FROM links WHERE dataset = 'low_income' AND record_id IS NOT NULL
),
covered_people AS (
    SELECT DISTINCT li.p_id18
    FROM norm_low_income AS li
    JOIN covered_records AS c USING (record_id)
    WHERE li.p_id18 IS NOT NULL
)
SELECT
    'ADD_CANDIDATE' AS finding_code,
    coalesce(li.p_id18, 'low_income:' || li.record_id) AS subject,
    NULL::BIGINT AS member_pick,
    NULL::VARCHAR AS household_id,
    coalesce(li.p_id18, li.id_number) AS id_number,
    li.name,
    li.district_code,
    li.category_code,
    'low_income' AS dataset,
    li.record_id,
    -- not on the roll: certain for a valid ID no roll member holds; for a register person
    -- without one, only as certain as the name-and-place search that found nobody
    1.0::DOUBLE AS score,
    (CASE WHEN li.p_id18 IS NULL THEN 2 ELSE 1 END)::TINYINT AS tier,
    1.0::DOUBLE AS claim_score,
    (s.standard - li.per_capita_income)::DOUBLE AS ev_key1,
    0::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    '家庭人均月收入' || printf('%.2f', li.per_capita_income) || '元，低于'
        || concat_ws('', li.district, coalesce(li.category, li.category_code))
        || '保障标准' || printf('%.2f', s.standard) || '元'
        || coalesce('，' || li."group", '')
        || '，家庭人口' || coalesce(li.household_size::VARCHAR || '人', '不详')
        || '；不在低保名册上' AS note,
    NULL::DOUBLE AS amount_household,
    NULL::DOUBLE AS amount_member,
    ((s.standard - li.per_capita_income) * coalesce(li.household_size, 1))::DOUBLE AS amount_gap
FROM norm_low_income AS li
JOIN rules_standard AS s
  ON s.district_code = li.district_code AND s.category_code = li.category_code
WHERE li.per_capita_income < s.standard
  AND NOT EXISTS (SELECT 1 FROM covered_records AS c WHERE c.record_id = li.record_id)
  AND NOT EXISTS (SELECT 1 FROM covered_people AS c WHERE c.p_id18 = li.p_id18)
