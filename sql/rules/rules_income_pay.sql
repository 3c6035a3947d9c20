-- Counted public-payroll income of roll members, where the policy counts public pay.
-- Inputs: rules_member_links (dataset public_employees, with the policy),
-- norm_public_employees.
-- Grain: one row per (member, payroll record). Key: member_key, record_id.
SELECT
    ml.member_key, ml.household_id, ml.dataset, ml.record_id, ml.score, ml.tier,
    e.monthly_pay::DOUBLE AS amount,
    ml.name || '财政发放工资' || printf('%.2f', e.monthly_pay) || '元'
        || coalesce('（' || e.employer || '）', '')
        || '（' || coalesce(ml.evidence, '已关联') || '）' AS note
FROM rules_member_links AS ml
JOIN norm_public_employees AS e ON e.record_id = ml.record_id
WHERE ml.dataset = 'public_employees'
  AND e.monthly_pay IS NOT NULL
  AND ml.policy.income_count_public_pay
