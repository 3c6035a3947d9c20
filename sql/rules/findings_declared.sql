-- Declared relatives on the roll: roll members linked from a staff member's declaration.
-- Inputs: findings_members, links (dataset staff_relatives), norm_staff_relatives.
-- Grain: one row per (member, declaration). Key: member_key, record_id.
SELECT
    m.member_key,
    m.household_id,
    r.staff_id,
    l.record_id,
    r.relation,
    l.score::DOUBLE AS score,
    l.evidence
FROM findings_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'staff_relatives'
JOIN norm_staff_relatives AS r ON r.record_id = l.record_id
WHERE r.staff_id IS NOT NULL
