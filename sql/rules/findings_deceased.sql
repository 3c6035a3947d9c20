-- DECEASED evidence: roll members linked to a death record dated on or before the audit date.
-- Inputs: rules_member_links (dataset deaths), norm_deaths; $as_of.
-- Grain: one row per (member, death record). Key: member_key, record_id.
-- Columns are the common evidence shape every findings_<code> table has (see findings.sql).
SELECT
    'DECEASED' AS finding_code,
    ml.* EXCLUDE (member_key, household_size, evidence, policy),
    ml.score AS claim_score,
    ml.score AS ev_key1,
    date_diff('day', DATE '1970-01-01', d.death_date)::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    '死亡火化记录：' || strftime(d.death_date, '%Y-%m-%d') || '死亡'
        || '（' || coalesce(ml.evidence, '已关联') || '）' AS note,
    NULL::DOUBLE AS amount_gap
FROM rules_member_links AS ml
JOIN norm_deaths AS d ON d.record_id = ml.record_id
WHERE ml.dataset = 'deaths'
  AND d.death_date <= $as_of
