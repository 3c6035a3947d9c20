-- BUSINESS evidence: roll members holding a counted role in a company of a counted status.
-- Inputs: findings_members, links (dataset businesses), norm_businesses, findings_policy.
-- Grain: one row per (member, business record). Key: member_key, record_id.
-- Counted: role in business_counted_roles and status in business_counted_statuses (codes or
-- as written); subscribed_capital (万元) above business_min_subscribed_capital where both given.
SELECT
    'BUSINESS' AS finding_code,
    m.subject,
    m.member_seq AS member_pick,
    m.household_id,
    m.roll_id AS id_number,
    m.name,
    m.district_code,
    m.category_code,
    'businesses' AS dataset,
    l.record_id,
    l.score::DOUBLE AS score,
    l.score::DOUBLE AS claim_score,
    l.score::DOUBLE AS ev_key1,
    coalesce(b.subscribed_capital, b.registered_capital, 0)::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    coalesce(b.role, b.role_code) || ' of ' || coalesce(b.company, 'a company')
        || ' (' || coalesce(b.status, b.status_code) || ')'
        || coalesce(', subscribed capital ' || printf('%.2f', b.subscribed_capital) || ' 万元', '')
        || ' (' || coalesce(l.evidence, 'linked') || ')' AS note,
    m.monthly_amount AS amount_household,
    m.member_share AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM findings_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'businesses'
JOIN norm_businesses AS b ON b.record_id = l.record_id
JOIN findings_policy AS p
  ON p.district_code IS NOT DISTINCT FROM m.district_code
 AND p.category_code IS NOT DISTINCT FROM m.category_code
WHERE (list_contains(p.business_counted_roles, b.role_code)
       OR list_contains(p.business_counted_roles, b.role))
  AND (list_contains(p.business_counted_statuses, b.status_code)
       OR list_contains(p.business_counted_statuses, b.status))
  AND (p.business_min_subscribed_capital IS NULL OR b.subscribed_capital IS NULL
       OR b.subscribed_capital > p.business_min_subscribed_capital)
