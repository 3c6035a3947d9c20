-- PUBLIC_EMPLOYEE evidence: roll members linked to the public-payroll roster.
-- Inputs: findings_members, links (dataset public_employees), norm_public_employees.
-- Grain: one row per (member, payroll record). Key: member_key, record_id.
SELECT
    'PUBLIC_EMPLOYEE' AS finding_code,
    m.subject,
    m.member_seq AS member_pick,
    m.household_id,
    m.roll_id AS id_number,
    m.name,
    m.district_code,
    m.category_code,
    'public_employees' AS dataset,
    l.record_id,
    l.score::DOUBLE AS score,
    l.score::DOUBLE AS claim_score,
    l.score::DOUBLE AS ev_key1,
    e.monthly_pay::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    'on the public payroll' || coalesce(' at ' || e.employer, '')
        || coalesce(', monthly pay ' || printf('%.2f', e.monthly_pay), '')
        || ' (' || coalesce(l.evidence, 'linked') || ')' AS note,
    m.monthly_amount AS amount_household,
    m.member_share AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM findings_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'public_employees'
JOIN norm_public_employees AS e ON e.record_id = l.record_id
