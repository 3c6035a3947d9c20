-- Counted pension income of roll members: linked pension records of a type not excluded.
-- Inputs: rules_member_links (dataset pensions, with the policy), norm_pensions.
-- Grain: one row per (member, pension record). Key: member_key, record_id.
SELECT
    ml.member_key, ml.household_id, ml.dataset, ml.record_id, ml.score, ml.tier,
    s.monthly_amount::DOUBLE AS amount,
    ml.name || coalesce(s.benefit_type, '养老金') || printf('%.2f', s.monthly_amount) || '元'
        || '（' || coalesce(ml.evidence, '已关联') || '）' AS note
FROM rules_member_links AS ml
JOIN norm_pensions AS s ON s.record_id = ml.record_id
WHERE ml.dataset = 'pensions'
  AND s.monthly_amount IS NOT NULL
  AND NOT coalesce(list_contains(ml.policy.income_excluded_pension_types, s.benefit_type), false)
