-- VEHICLE evidence: roll members linked to a counted vehicle under their household's policy.
-- Inputs: findings_members, links (dataset vehicles), norm_vehicles, findings_policy.
-- Grain: one row per (member, vehicle record). Key: member_key, record_id.
-- Counted: status in vehicle_counted_statuses (code or as written); type containing none of
-- vehicle_exempt_types; purchase_price above vehicle_min_purchase_price where both are given.
SELECT
    'VEHICLE' AS finding_code,
    m.subject,
    m.member_seq AS member_pick,
    m.household_id,
    m.roll_id AS id_number,
    m.name,
    m.district_code,
    m.category_code,
    'vehicles' AS dataset,
    l.record_id,
    l.score::DOUBLE AS score,
    l.score::DOUBLE AS claim_score,
    l.score::DOUBLE AS ev_key1,
    coalesce(v.purchase_price, 0)::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    'owns ' || coalesce(v.vehicle_type, 'a vehicle') || coalesce(' ' || v.plate, '')
        || ' (' || coalesce(v.status, v.status_code) || ')'
        || coalesce(', registered ' || strftime(v.registered_date, '%Y-%m-%d'), '')
        || coalesce(', purchase price ' || printf('%.2f', v.purchase_price), '')
        || ' (' || coalesce(l.evidence, 'linked') || ')' AS note,
    m.monthly_amount AS amount_household,
    m.member_share AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM findings_members AS m
JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'vehicles'
JOIN norm_vehicles AS v ON v.record_id = l.record_id
JOIN findings_policy AS p
  ON p.district_code IS NOT DISTINCT FROM m.district_code
 AND p.category_code IS NOT DISTINCT FROM m.category_code
WHERE (list_contains(p.vehicle_counted_statuses, v.status_code)
       OR list_contains(p.vehicle_counted_statuses, v.status))
  AND len(list_filter(p.vehicle_exempt_types,
                      lambda t: contains(coalesce(v.vehicle_type, ''), t))) = 0
  AND (p.vehicle_min_purchase_price IS NULL OR v.purchase_price IS NULL
       OR v.purchase_price > p.vehicle_min_purchase_price)
