-- The addition list (应保尽保): low-income register people proposed for (re)assessment.
-- Inputs: findings (ADD_CANDIDATE), norm_low_income, rules_standard.
-- Grain: one row per ADD_CANDIDATE finding. Key: finding_id (and rank).
-- Ranked by priority desc, then amount at stake (the gap, by default) desc, then record_id.
SELECT
    row_number() OVER (ORDER BY f.priority DESC, f.amount_at_stake DESC NULLS LAST, f.record_id) AS rank,
    f.record_id,
    li.name,
    f.id_number,
    li.district,
    li.street,
    li.community,
    li.household_size,
    round(li.per_capita_income, 2) AS per_capita_income,
    round(s.standard, 2) AS standard,
    round((s.standard - li.per_capita_income) * coalesce(li.household_size, 1), 2) AS gap_amount,
    li."group" AS "group",
    f.finding_id
FROM findings AS f
JOIN (SELECT * FROM norm_low_income
      QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY _row) = 1) AS li
  ON li.record_id = f.record_id
LEFT JOIN rules_standard AS s
  ON s.district_code = li.district_code AND s.category_code = li.category_code
WHERE f.finding_code = 'ADD_CANDIDATE'
ORDER BY rank
