-- Counted public-payroll income of roll members, where the policy counts public pay.
-- Inputs: findings_members, links (dataset public_employees), norm_public_employees,
-- findings_policy.
-- Grain: one row per (member, payroll record). Key: member_key, record_id.
SELECT
    m.member_key,
    m.household_id,
    'public_employees' AS dataset,
    l.record_id,
    l.score::DOUBLE AS score,
    e.monthly_pay::DOUBLE AS amount,
    'public pay ' || printf('%.2f', e.monthly_pay) || coalesce(' at ' || e.employer, '')
        || ' for ' || m.name || ' (' || coalesce(l.evidence, 'linked') || ')' AS note
FROM findings_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'public_employees'
JOIN norm_public_employees AS e ON e.record_id = l.record_id
JOIN findings_policy AS p
  ON p.district_code IS NOT DISTINCT FROM m.district_code
 AND p.category_code IS NOT DISTINCT FROM m.category_code
WHERE e.monthly_pay IS NOT NULL
  AND p.income_count_public_pay
