-- VEHICLE evidence: roll members linked to a counted vehicle under their household's policy.
-- Inputs: rules_member_links (dataset vehicles, with the policy), norm_vehicles.
-- Grain: one row per (member, vehicle record). Key: member_key, record_id.
-- Counted: status in vehicle_counted_statuses (code or as written); type containing none of
-- vehicle_exempt_types; purchase_price above vehicle_min_purchase_price where both are given.
SELECT
    'VEHICLE' AS finding_code,
    ml.* EXCLUDE (member_key, household_size, evidence, policy),
    ml.score AS claim_score,
    ml.score AS ev_key1,
    coalesce(v.purchase_price, 0)::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    '名下有' || coalesce(v.vehicle_type, '车辆') || coalesce(' ' || v.plate, '')
        || '（' || coalesce(v.status, v.status_code) || '）'
        || coalesce('，登记日期' || strftime(v.registered_date, '%Y-%m-%d'), '')
        || coalesce('，购置价' || printf('%.2f', v.purchase_price) || '元', '')
        || '（' || coalesce(ml.evidence, '已关联') || '）' AS note,
    NULL::DOUBLE AS amount_gap
FROM rules_member_links AS ml
JOIN norm_vehicles AS v ON v.record_id = ml.record_id
WHERE ml.dataset = 'vehicles'
  AND (list_contains(ml.policy.vehicle_counted_statuses, v.status_code)
       OR list_contains(ml.policy.vehicle_counted_statuses, v.status))
  AND len(list_filter(ml.policy.vehicle_exempt_types,
                      lambda t: contains(coalesce(v.vehicle_type, ''), t))) = 0
  AND (ml.policy.vehicle_min_purchase_price IS NULL OR v.purchase_price IS NULL
       OR v.purchase_price > ml.policy.vehicle_min_purchase_price)
