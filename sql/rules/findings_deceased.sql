-- DECEASED evidence: roll members linked to a death record dated on or before the audit date.
-- Inputs: findings_members, links (dataset deaths), norm_deaths; $as_of.
-- Grain: one row per (member, death record). Key: member_key, record_id.
-- Columns are the common evidence shape every findings_<code> table has (see findings.sql).
SELECT
    'DECEASED' AS finding_code,
    m.subject,
    m.member_seq AS member_pick,
    m.household_id,
    m.roll_id AS id_number,
    m.name,
    m.district_code,
    m.category_code,
    'deaths' AS dataset,
    l.record_id,
    l.score::DOUBLE AS score,
    l.score::DOUBLE AS claim_score,
    l.score::DOUBLE AS ev_key1,
    date_diff('day', DATE '1970-01-01', d.death_date)::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    'death recorded on ' || strftime(d.death_date, '%Y-%m-%d')
        || ' (' || coalesce(l.evidence, 'linked') || ')' AS note,
    m.monthly_amount AS amount_household,
    m.member_share AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM findings_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'deaths'
JOIN norm_deaths AS d ON d.record_id = l.record_id
WHERE d.death_date <= $as_of
