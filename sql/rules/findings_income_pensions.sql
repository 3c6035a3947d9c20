-- Counted pension income of roll members: linked pension records of a type not excluded.
-- Inputs: findings_members, links (dataset pensions), norm_pensions, findings_policy.
-- Grain: one row per (member, pension record). Key: member_key, record_id.
SELECT
    m.member_key,
    m.household_id,
    'pensions' AS dataset,
    l.record_id,
    l.score::DOUBLE AS score,
    s.monthly_amount::DOUBLE AS amount,
    coalesce(s.benefit_type, 'pension') || ' ' || printf('%.2f', s.monthly_amount)
        || ' for ' || m.name || ' (' || coalesce(l.evidence, 'linked') || ')' AS note
FROM findings_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'pensions'
JOIN norm_pensions AS s ON s.record_id = l.record_id
JOIN findings_policy AS p
  ON p.district_code IS NOT DISTINCT FROM m.district_code
 AND p.category_code IS NOT DISTINCT FROM m.category_code
WHERE s.monthly_amount IS NOT NULL
  AND NOT coalesce(list_contains(p.income_excluded_pension_types, s.benefit_type), false)
