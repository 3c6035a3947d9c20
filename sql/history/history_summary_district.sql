-- Per-district summary (summary_by_district.csv): the street summary added up.
-- Inputs: history_summary_street. Grain: one row per district. Key: district.
SELECT
    district,
    sum(households)::BIGINT AS households,
    sum(persons)::BIGINT AS persons,
    round(sum(monthly_amount), 2) AS monthly_amount,
    sum(added)::BIGINT AS added,
    sum(stopped)::BIGINT AS stopped,
    sum(adjusted)::BIGINT AS adjusted,
    sum(members_added)::BIGINT AS members_added,
    sum(members_removed)::BIGINT AS members_removed,
    round(sum(amount_change), 2) AS amount_change
FROM history_summary_street
GROUP BY district
ORDER BY district
