-- STAFF_RELATIVE_UNFILED evidence: near relatives declared by staff with no kin filing.
-- Inputs: rules_declared, rules_member_links (the declaration's link), rules_members,
-- norm_kin_filings, links (dataset kin_filings: record_id = 'kin:' || the filing's _row).
-- Grain: one row per (member, declaration). Key: member_key, record_id.
-- A filing covers a (member, staff) pair when it names that staff_id and either the member's
-- household_id and repaired ID, or the linker tied the filing to the member.
WITH filed AS (
    SELECT m.member_key, k.staff_id
    FROM norm_kin_filings AS k
    JOIN rules_members AS m ON m.household_id = k.household_id AND m.p_id18 = k.p_id18
    UNION
    SELECT l.member_key, k.staff_id
    FROM links AS l
    JOIN norm_kin_filings AS k ON l.dataset = 'kin_filings' AND l.record_id = 'kin:' || k._row::VARCHAR
)
SELECT
    'STAFF_RELATIVE_UNFILED' AS finding_code,
    ml.* EXCLUDE (member_key, household_size, evidence, policy),
    ml.score AS claim_score,
    ml.score AS ev_key1,
    0::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    '工作人员' || d.staff_id || '申报其为' || d.relation
        || '，未见该工作人员的近亲属备案（' || coalesce(ml.evidence, '已关联') || '）' AS note,
    NULL::DOUBLE AS amount_gap
FROM rules_declared AS d
JOIN rules_member_links AS ml
  ON ml.member_key = d.member_key AND ml.dataset = 'staff_relatives' AND ml.record_id = d.record_id
WHERE d.near_relative
  AND NOT EXISTS (SELECT 1 FROM filed AS f
                  WHERE f.member_key = d.member_key AND f.staff_id = d.staff_id)
