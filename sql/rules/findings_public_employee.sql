-- PUBLIC_EMPLOYEE evidence: roll members linked to the public-payroll roster.
-- Inputs: rules_member_links (dataset public_employees), norm_public_employees.
-- Grain: one row per (member, payroll record). Key: member_key, record_id.
SELECT
    'PUBLIC_EMPLOYEE' AS finding_code,
    ml.* EXCLUDE (member_key, household_size, evidence, policy),
    ml.score AS claim_score,
    ml.score AS ev_key1,
    e.monthly_pay::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    '财政供养人员' || coalesce('，单位' || e.employer, '')
        || coalesce('，月工资' || printf('%.2f', e.monthly_pay) || '元', '')
        || '（' || coalesce(ml.evidence, '已关联') || '）' AS note,
    NULL::DOUBLE AS amount_gap
FROM rules_member_links AS ml
JOIN norm_public_employees AS e ON e.record_id = ml.record_id
WHERE ml.dataset = 'public_employees'
