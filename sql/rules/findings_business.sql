-- BUSINESS evidence: roll members holding a counted role in a company of a counted status.
-- Inputs: rules_member_links (dataset businesses, with the policy), norm_businesses.
-- Grain: one row per (member, business record). Key: member_key, record_id.
-- Counted: role in business_counted_roles and status in business_counted_statuses (codes or
-- as written); subscribed_capital (万元) above business_min_subscribed_capital where both given.
SELECT
    'BUSINESS' AS finding_code,
    ml.* EXCLUDE (member_key, household_size, evidence, policy),
    ml.score AS claim_score,
    ml.score AS ev_key1,
    coalesce(b.subscribed_capital, b.registered_capital, 0)::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    coalesce(b.company, '企业') || coalesce(b.role, b.role_code)
        || '（' || coalesce(b.status, b.status_code) || '）'
        || coalesce('，认缴资本' || printf('%.2f', b.subscribed_capital) || '万元', '')
        || '（' || coalesce(ml.evidence, '已关联') || '）' AS note,
    NULL::DOUBLE AS amount_gap
FROM rules_member_links AS ml
JOIN norm_businesses AS b ON b.record_id = ml.record_id
WHERE ml.dataset = 'businesses'
  AND (list_contains(ml.policy.business_counted_roles, b.role_code)
       OR list_contains(ml.policy.business_counted_roles, b.role))
  AND (list_contains(ml.policy.business_counted_statuses, b.status_code)
       OR list_contains(ml.policy.business_counted_statuses, b.status))
  AND (ml.policy.business_min_subscribed_capital IS NULL OR b.subscribed_capital IS NULL
       OR b.subscribed_capital > ml.policy.business_min_subscribed_capital)
