-- Changes against the previous month-end audit (动态管理): what changes.csv lists.
-- Inputs: history_households, history_members (this audit), prev_households, prev_members
-- (the previous month-end audit, from the warehouse), history_confirmed (findings of either audit
-- that a person confirmed: household_id, id_number, finding_code).
-- Grain: one row per (household, change). Key: household_id, change.
-- 新增 in this audit only; 停保 in the previous only; 调整 amount differs by a cent or more;
-- 成员增加/成员减少 a person (person_ref) joined or left a household present in both.
-- reason: the confirmed findings behind a stop, an adjustment or a member leaving, else a roll
-- change made by the office.
WITH both_audits AS (
    SELECT c.household_id, p.monthly_amount AS old_amount, c.monthly_amount AS new_amount,
           p.members AS members_before, c.members AS members_after,
           c.district, c.street, c.community
    FROM history_households AS c
    JOIN prev_households AS p USING (household_id)
),
joined AS (
    SELECT c.household_id, c.person_ref FROM history_members AS c
    WHERE c.household_id IN (SELECT household_id FROM both_audits)
    EXCEPT
    SELECT p.household_id, p.person_ref FROM prev_members AS p
),
departed AS (
    SELECT p.household_id, p.person_ref FROM prev_members AS p
    WHERE p.household_id IN (SELECT household_id FROM both_audits)
    EXCEPT
    SELECT c.household_id, c.person_ref FROM history_members AS c
),
departed_ids AS (
    SELECT d.household_id, m.id_number
    FROM departed AS d
    JOIN prev_members AS m USING (household_id, person_ref)
),
household_reason AS (
    SELECT household_id,
           '核查确认: ' || string_agg(DISTINCT finding_code, '、' ORDER BY finding_code) AS reason
    FROM history_confirmed
    WHERE household_id IS NOT NULL
    GROUP BY household_id
),
member_reason AS (
    SELECT d.household_id,
           '核查确认: ' || string_agg(DISTINCT f.finding_code, '、' ORDER BY f.finding_code) AS reason
    FROM departed_ids AS d
    JOIN history_confirmed AS f ON f.household_id = d.household_id AND f.id_number = d.id_number
    GROUP BY d.household_id
),
changes AS (
    SELECT c.household_id, '新增' AS change, 1 AS change_order,
           NULL::DOUBLE AS old_amount, c.monthly_amount AS new_amount,
           NULL::BIGINT AS members_before, c.members AS members_after,
           '名册变更' AS reason, c.district, c.street, c.community
    FROM history_households AS c
    WHERE c.household_id NOT IN (SELECT household_id FROM prev_households)
    UNION ALL
    SELECT p.household_id, '停保', 2, p.monthly_amount, NULL, p.members, NULL,
           coalesce(r.reason, '名册变更'), p.district, p.street, p.community
    FROM prev_households AS p
    LEFT JOIN household_reason AS r USING (household_id)
    WHERE p.household_id NOT IN (SELECT household_id FROM history_households)
    UNION ALL
    SELECT b.household_id, '调整', 3, b.old_amount, b.new_amount, b.members_before,
           b.members_after, coalesce(r.reason, '名册变更'), b.district, b.street, b.community
    FROM both_audits AS b
    LEFT JOIN household_reason AS r USING (household_id)
    WHERE abs(coalesce(b.old_amount, 0) - coalesce(b.new_amount, 0)) >= 0.005
    UNION ALL
    SELECT b.household_id, '成员增加', 4, b.old_amount, b.new_amount, b.members_before,
           b.members_after, '名册变更', b.district, b.street, b.community
    FROM both_audits AS b
    WHERE b.household_id IN (SELECT household_id FROM joined)
    UNION ALL
    SELECT b.household_id, '成员减少', 5, b.old_amount, b.new_amount, b.members_before,
           b.members_after, coalesce(r.reason, '名册变更'), b.district, b.street, b.community
    FROM both_audits AS b
    LEFT JOIN member_reason AS r USING (household_id)
    WHERE b.household_id IN (SELECT household_id FROM departed)
)
SELECT household_id, change, old_amount, new_amount, members_before, members_after, reason,
       district, street, community
FROM changes
WHERE $compared  -- a first audit has nothing to compare with: no rows
ORDER BY household_id, change_order
