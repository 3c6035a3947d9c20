-- INCOME_OVER_STANDARD evidence: households whose counted income per member exceeds the standard.
-- Inputs: rules_income_records (counted pension and pay records of members),
-- rules_households, rules_standard.
-- Grain: one row per (household, income record). Key: household_id, dataset, record_id.
-- A record linked to two members of one household counts once. Per-capita income is compared
-- at fen precision (rounded to 2 decimals): equal to the standard is not over. The evidence
-- record is the largest amount; the finding's score is the best link among its records.
WITH records AS (
    SELECT * FROM rules_income_records
    QUALIFY row_number() OVER (PARTITION BY household_id, dataset, record_id
                               ORDER BY score DESC, member_key) = 1
),
households AS (
    -- summed as exact decimals, so that the total does not depend on the summation order
    SELECT r.household_id, sum(r.amount::DECIMAL(18, 2))::DOUBLE AS income,
           max(r.score) AS best_score,
           min(r.tier) AS best_tier,
           count(*) AS records
    FROM records AS r
    GROUP BY r.household_id
),
over AS (
    SELECT h.*, i.income, i.best_score, i.best_tier, i.records, s.standard,
           round(i.income / h.household_size, 2) AS per_capita
    FROM households AS i
    JOIN rules_households AS h USING (household_id)
    JOIN rules_standard AS s
      ON s.district_code = h.district_code AND s.category_code = h.category_code
    WHERE round(i.income / h.household_size, 2) > s.standard
)
SELECT
    'INCOME_OVER_STANDARD' AS finding_code,
    o.household_id AS subject,
    NULL::BIGINT AS member_pick,
    o.household_id,
    o.head_id AS id_number,
    o.head_name AS name,
    o.district_code,
    o.category_code,
    r.dataset,
    r.record_id,
    r.score,
    o.best_tier AS tier,
    o.best_score AS claim_score,
    r.amount AS ev_key1,
    r.score AS ev_key2,
    '计入收入' || printf('%.2f', o.income) || '元（' || o.records || '条记录）÷ '
        || o.household_size || '人 = 人均' || printf('%.2f', o.per_capita)
        || '元，高于保障标准' || printf('%.2f', o.standard) || '元' AS summary,
    r.note,
    o.monthly_amount AS amount_household,
    o.monthly_amount / o.household_size AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM over AS o
JOIN records AS r USING (household_id)
