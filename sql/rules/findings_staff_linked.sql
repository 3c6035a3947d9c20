-- STAFF_LINKED evidence: households sharing a personal phone or bank account with a staff member.
-- Inputs: roll_people, norm_staff, rules_households, rules_policy, rules_declared.
-- Grain: one row per (household, staff member). Key: household_id, record_id (staff_id).
-- Personal: used by no more roll households than staff_max_shared_households. Phones compare
-- as phone_norm, bank accounts as bank_account_norm (ingest's digits). A household where any
-- member was declared (any relation) by that staff member is not linked: the relation is known.
WITH household_values AS (
    SELECT DISTINCT household_id, '手机号' AS via, phone_norm AS value
    FROM roll_people WHERE phone_norm IS NOT NULL
    UNION
    SELECT DISTINCT household_id, '银行账号' AS via, bank_account_norm AS value
    FROM roll_people WHERE bank_account_norm IS NOT NULL
),
use AS (
    SELECT via, value, count(DISTINCT household_id) AS households
    FROM household_values GROUP BY via, value
),
staff_values AS (
    SELECT staff_id, '手机号' AS via, phone_norm AS value
    FROM norm_staff WHERE phone_norm IS NOT NULL AND staff_id IS NOT NULL
    UNION
    SELECT staff_id, '银行账号' AS via, bank_account_norm AS value
    FROM norm_staff WHERE bank_account_norm IS NOT NULL AND staff_id IS NOT NULL
),
shared AS (
    SELECT hv.household_id, sv.staff_id, hv.via, hv.value, u.households
    FROM household_values AS hv
    JOIN use AS u USING (via, value)
    JOIN staff_values AS sv USING (via, value)
),
pairs AS (
    SELECT household_id, staff_id,
           string_agg(via || '尾号' || right(value, 4) || '（名册中' || households
                      || '户使用）', '、' ORDER BY via, value) AS shared_values
    FROM shared AS s
    JOIN rules_households AS h USING (household_id)
    JOIN rules_policy AS p
      ON p.district_code IS NOT DISTINCT FROM h.district_code
     AND p.category_code IS NOT DISTINCT FROM h.category_code
    WHERE s.households <= p.staff_max_shared_households
    GROUP BY household_id, staff_id
)
SELECT
    'STAFF_LINKED' AS finding_code,
    h.household_id AS subject,
    NULL::BIGINT AS member_pick,
    h.household_id,
    h.head_id AS id_number,
    h.head_name AS name,
    h.district_code,
    h.category_code,
    'staff' AS dataset,
    pr.staff_id AS record_id,
    1.0::DOUBLE AS score,
    1::TINYINT AS tier,
    1.0::DOUBLE AS claim_score,
    1.0::DOUBLE AS ev_key1,
    0::DOUBLE AS ev_key2,
    NULL::VARCHAR AS summary,
    '与工作人员' || pr.staff_id
        || coalesce('（' || nullif(concat_ws('，', st.role, st.org, st.community), '') || '）', '')
        || '共用个人' || pr.shared_values || '，且无成员被申报为其亲属' AS note,
    h.monthly_amount AS amount_household,
    h.monthly_amount / h.household_size AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM pairs AS pr
JOIN rules_households AS h USING (household_id)
LEFT JOIN (SELECT * FROM norm_staff
           QUALIFY row_number() OVER (PARTITION BY staff_id ORDER BY _row) = 1) AS st
  USING (staff_id)
WHERE NOT EXISTS (SELECT 1 FROM rules_declared AS d
                  WHERE d.household_id = pr.household_id AND d.staff_id = pr.staff_id)
