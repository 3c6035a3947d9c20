-- Per-street summary of this audit against the previous month-end one (summary_by_street.csv).
-- Inputs: history_households, prev_households, history_changes.
-- Grain: one row per (district, street) present in either audit. Key: district, street.
-- amount_change = this audit's monthly total - the previous one's (0 for a first audit).
WITH cur AS (
    SELECT district, street, count(*) AS households, sum(members) AS persons,
           sum(monthly_amount) AS monthly_amount
    FROM history_households GROUP BY district, street
),
prev AS (
    SELECT district, street, count(*) AS households, sum(monthly_amount) AS monthly_amount
    FROM prev_households GROUP BY district, street
),
ch AS (
    SELECT district, street,
           count(*) FILTER (WHERE change = '新增') AS added,
           count(*) FILTER (WHERE change = '停保') AS stopped,
           count(*) FILTER (WHERE change = '调整') AS adjusted,
           count(*) FILTER (WHERE change = '成员增加') AS members_added,
           count(*) FILTER (WHERE change = '成员减少') AS members_removed
    FROM history_changes GROUP BY district, street
),
keys AS (
    SELECT district, street FROM cur UNION SELECT district, street FROM prev
)
SELECT
    k.district,
    k.street,
    coalesce(c.households, 0)::BIGINT AS households,
    coalesce(c.persons, 0)::BIGINT AS persons,
    round(coalesce(c.monthly_amount, 0), 2) AS monthly_amount,
    coalesce(ch.added, 0)::BIGINT AS added,
    coalesce(ch.stopped, 0)::BIGINT AS stopped,
    coalesce(ch.adjusted, 0)::BIGINT AS adjusted,
    coalesce(ch.members_added, 0)::BIGINT AS members_added,
    coalesce(ch.members_removed, 0)::BIGINT AS members_removed,
    round(CASE WHEN (SELECT count(*) FROM prev_households) = 0 THEN 0
               ELSE coalesce(c.monthly_amount, 0) - coalesce(p.monthly_amount, 0) END, 2)
        AS amount_change
FROM keys AS k
LEFT JOIN cur AS c ON c.district IS NOT DISTINCT FROM k.district AND c.street IS NOT DISTINCT FROM k.street
LEFT JOIN prev AS p ON p.district IS NOT DISTINCT FROM k.district AND p.street IS NOT DISTINCT FROM k.street
LEFT JOIN ch ON ch.district IS NOT DISTINCT FROM k.district AND ch.street IS NOT DISTINCT FROM k.street
ORDER BY k.district, k.street
