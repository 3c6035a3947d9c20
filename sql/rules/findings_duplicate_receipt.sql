-- DUPLICATE_RECEIPT evidence: a member linked to the same person in another roll household.
-- Inputs: rules_members, links (dataset roll: record_id = the other member_key).
-- Grain: one row per (later member, earlier member) pair. Key: member_key, record_id.
-- The subject row is the later enrolment (later start date, ties: larger household_id); the
-- evidence record is the other household_id; the amount is the later household's share.
SELECT
    'DUPLICATE_RECEIPT' AS finding_code,
    m.subject,
    -m.member_seq AS member_pick,
    m.household_id,
    m.roll_id AS id_number,
    m.name,
    m.district_code,
    m.category_code,
    'roll' AS dataset,
    o.household_id AS record_id,
    l.score::DOUBLE AS score,
    l.tier::TINYINT AS tier,
    l.score::DOUBLE AS claim_score,
    l.score::DOUBLE AS ev_key1,
    (-o.member_seq)::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    '同时在户' || o.household_id || '享受保障'
        || coalesce('（' || strftime(o.start_key, '%Y-%m-%d') || '起）', '')
        || '；本户' || coalesce(strftime(m.start_key, '%Y-%m-%d') || '起', '起始日期不详')
        || '（' || coalesce(l.evidence, '已关联') || '）' AS note,
    m.monthly_amount AS amount_household,
    m.member_share AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM rules_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'roll'
JOIN rules_members AS o ON o.member_key = TRY_CAST(l.record_id AS BIGINT)
WHERE o.household_id <> m.household_id
  AND m.member_seq > o.member_seq
