-- Roll members joined to their links and to the policy in force for their district/category.
-- Inputs: rules_members, links (every dataset), rules_policy.
-- Grain: one row per (member, linked record). Key: member_key, dataset, record_id.
-- The first thirteen columns are the evidence shape's (see findings.sql) for a finding raised on
-- the member over that record; a member-level rule selects them with
-- `ml.* EXCLUDE (member_key, household_size, evidence, policy)` and adds its own. evidence is
-- the linker's text (NULL: the note says 'linked'); policy is the member's rules_policy row
-- as a struct. rules_policy has one row per (district_code, category_code) of every roll
-- household, so the policy join neither drops nor repeats a link.
SELECT
    m.subject,
    m.member_seq AS member_pick,
    m.household_id,
    m.roll_id AS id_number,
    m.name,
    m.district_code,
    m.category_code,
    l.dataset,
    l.record_id,
    l.score::DOUBLE AS score,
    l.tier::TINYINT AS tier,
    m.monthly_amount AS amount_household,
    m.member_share AS amount_member,
    m.member_key,
    m.household_size,
    l.evidence,
    p AS policy
FROM rules_members AS m
JOIN links AS l ON l.member_key = m.member_key
JOIN rules_policy AS p
  ON p.district_code IS NOT DISTINCT FROM m.district_code
 AND p.category_code IS NOT DISTINCT FROM m.category_code
