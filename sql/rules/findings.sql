-- Findings: one row per (finding_code, subject) with its strongest evidence, score, severity,
-- amount at stake, ranking priority and a stable finding_id.
-- Inputs: findings_evidence (the union of every findings_<code> table that ran),
-- rules_policy_codes (severity, weight, amount basis, action per district/category/code).
-- Grain: one row per (finding_code, subject). Key: finding_id (also finding_code, subject).
-- The member row shown is the smallest member_pick (person codes: the earlier enrolment;
-- DUPLICATE_RECEIPT: the later one). The evidence record is the first by ev_key1 desc, ev_key2
-- desc, dataset, record_id; the other records follow in the evidence text (five at most).
-- The score is the best claim_score; the tier the best (lowest) match tier of the evidence
-- (1 confirmed, 2 probable, 3 possible: pipelines/link/scoring.match_tiers), named.
-- finding_id hashes (code, subject, dataset, record_id):
-- the subject is the household_id (household codes, member_pick NULL), the roll's ID of the
-- person (person codes; the person key when the ID is blank) or the register person
-- (ADD_CANDIDATE) - never the as-of date, so a case found again keeps its id.
WITH evidence AS (
    SELECT *,
           row_number() OVER (PARTITION BY finding_code, subject, dataset, record_id
                              ORDER BY ev_key1 DESC NULLS LAST, ev_key2 DESC NULLS LAST,
                                       member_pick NULLS LAST, household_id NULLS LAST) AS copy
    FROM findings_evidence
),
members AS (
    SELECT *
    FROM evidence
    QUALIFY row_number() OVER (PARTITION BY finding_code, subject
                               ORDER BY member_pick NULLS LAST, household_id NULLS LAST,
                                        ev_key1 DESC NULLS LAST, ev_key2 DESC NULLS LAST,
                                        dataset, record_id) = 1
),
records AS (
    SELECT *,
           row_number() OVER (PARTITION BY finding_code, subject
                              ORDER BY ev_key1 DESC NULLS LAST, ev_key2 DESC NULLS LAST,
                                       dataset, record_id) AS ev_rank
    FROM evidence
    WHERE copy = 1
),
further AS (
    SELECT finding_code, subject, count(*) AS more,
           string_agg(coalesce(l.label, dataset) || ' ' || record_id || '：' || note, '；'
                      ORDER BY ev_rank)
               FILTER (WHERE ev_rank <= 6) AS listed
    FROM records
    LEFT JOIN rules_dataset_labels AS l USING (dataset)
    WHERE ev_rank > 1
    GROUP BY finding_code, subject
),
scores AS (
    SELECT finding_code, subject, max(coalesce(claim_score, score)) AS score,
           min(tier) AS tier_rank
    FROM evidence
    GROUP BY finding_code, subject
),
chosen AS (
    SELECT m.finding_code, m.subject, m.member_pick, m.household_id, m.id_number, m.name,
           m.district_code, m.category_code, m.amount_household, m.amount_member, r.amount_gap,
           r.dataset, r.record_id, s.score, s.tier_rank,
           concat_ws('；', r.summary, r.note,
                     '其他证据：' || f.listed
                         || CASE WHEN f.more > 5 THEN '；另有' || (f.more - 5) || '条' ELSE '' END
           ) AS evidence
    FROM members AS m
    JOIN records AS r
      ON r.finding_code = m.finding_code AND r.subject = m.subject AND r.ev_rank = 1
    JOIN scores AS s ON s.finding_code = m.finding_code AND s.subject = m.subject
    LEFT JOIN further AS f ON f.finding_code = m.finding_code AND f.subject = m.subject
),
valued AS (
    SELECT c.*, pc.code_order, pc.severity, coalesce(pc.weight, 0) AS weight, pc.action,
           round(CASE pc.amount_basis WHEN 'household' THEN c.amount_household
                                      WHEN 'member_share' THEN c.amount_member
                                      WHEN 'gap' THEN c.amount_gap END, 2) AS amount_at_stake,
           CASE WHEN c.member_pick IS NULL THEN c.subject
                ELSE coalesce(nullif(c.id_number, ''), c.subject) END AS hash_subject
    FROM chosen AS c
    LEFT JOIN rules_policy_codes AS pc
      ON pc.finding_code = c.finding_code
     AND pc.district_code IS NOT DISTINCT FROM c.district_code
     AND pc.category_code IS NOT DISTINCT FROM c.category_code
)
SELECT
    'F' || left(sha256(concat_ws('|', finding_code, coalesce(hash_subject, ''),
                                 coalesce(dataset, ''), coalesce(record_id, ''))), 16) AS finding_id,
    finding_code,
    code_order,
    subject,
    household_id,
    id_number,
    name,
    district_code,
    category_code,
    severity,
    weight,
    round(score, 4) AS score,
    CASE tier_rank WHEN 1 THEN 'confirmed' WHEN 2 THEN 'probable' ELSE 'possible' END AS tier,
    dataset,
    record_id,
    evidence,
    amount_at_stake,
    round(weight * coalesce(amount_at_stake, 0) * coalesce(round(score, 4), 0), 2) AS priority,
    action
FROM valued
-- a match a person dismissed as the wrong person is not reported again (contract §6)
WHERE finding_id NOT IN (SELECT finding_id FROM rules_decisions
                         WHERE decision = 'dismissed_wrong_person')
