-- APPROVER_CONFLICT evidence: households whose case handler declared a member as a near
-- relative (filed or not), or is STAFF_LINKED to the household.
-- Inputs: rules_approver, rules_declared, rules_members, rules_households,
-- findings_staff_linked.
-- Grain: one row per (household, evidence record). Key: household_id, dataset, record_id.
-- A declaration is preferred as evidence over a shared phone/account (ev_key1), then the score.
WITH by_declaration AS (
    SELECT a.household_id, a.staff_id, 'staff_relatives' AS dataset, d.record_id, d.score,
           d.tier,
           1.0 AS kind,
           '经办人' || a.staff_id || '申报成员' || m.name || '为其' || d.relation
               || '（' || coalesce(d.evidence, '已关联') || '）' AS note
    FROM rules_approver AS a
    JOIN rules_declared AS d ON d.household_id = a.household_id AND d.staff_id = a.staff_id
    JOIN rules_members AS m ON m.member_key = d.member_key
    WHERE d.near_relative
),
by_link AS (
    SELECT a.household_id, a.staff_id, 'staff' AS dataset, s.record_id, s.score, s.tier,
           0.0 AS kind,
           '经办人' || a.staff_id || '：' || s.note AS note
    FROM rules_approver AS a
    JOIN findings_staff_linked AS s ON s.household_id = a.household_id AND s.record_id = a.staff_id
),
evidence AS (
    SELECT * FROM by_declaration
    UNION ALL
    SELECT * FROM by_link
)
SELECT
    'APPROVER_CONFLICT' AS finding_code,
    h.household_id AS subject,
    NULL::BIGINT AS member_pick,
    h.household_id,
    h.head_id AS id_number,
    h.head_name AS name,
    h.district_code,
    h.category_code,
    e.dataset,
    e.record_id,
    e.score::DOUBLE AS score,
    e.tier::TINYINT AS tier,
    e.score::DOUBLE AS claim_score,
    e.kind::DOUBLE AS ev_key1,
    e.score::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    e.note,
    h.monthly_amount AS amount_household,
    h.monthly_amount / h.household_size AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM evidence AS e
JOIN rules_households AS h USING (household_id)
