-- Declared relatives on the roll: roll members linked from a staff member's declaration.
-- Inputs: rules_member_links (dataset staff_relatives, with the policy), norm_staff_relatives.
-- Grain: one row per (member, declaration). Key: member_key, record_id.
-- near_relative: the relation is one of the policy's staff_near_relations (NULL: unknown).
SELECT
    ml.member_key,
    ml.household_id,
    r.staff_id,
    ml.record_id,
    r.relation,
    list_contains(ml.policy.staff_near_relations, r.relation) AS near_relative,
    ml.score,
    ml.tier,
    ml.evidence
FROM rules_member_links AS ml
JOIN norm_staff_relatives AS r ON r.record_id = ml.record_id
WHERE ml.dataset = 'staff_relatives'
  AND r.staff_id IS NOT NULL
