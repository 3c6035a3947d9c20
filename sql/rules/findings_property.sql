-- PROPERTY evidence: units of roll members who own too many homes or any non-residential unit.
-- Inputs: rules_member_links (dataset property, with the policy), norm_property.
-- Grain: one row per (member, counted unit). Key: member_key, record_id.
-- Counted per member: property_min_residential_units or more residential units (and, when
-- property_min_area_per_capita is set and areas are given, residential area per household
-- member above it), or any non-residential unit when property_count_non_residential.
-- claim_score: a non-residential unit's own link score; for the residential count, the score
-- of the weakest unit needed to reach the count (the claim holds only if that link does).
WITH units AS (
    SELECT ml.member_key, ml.record_id, ml.score, ml.household_size, pr.usage_code, pr.area,
           ml.policy.property_min_residential_units AS min_units,
           ml.policy.property_min_area_per_capita AS min_area,
           ml.policy.property_count_non_residential AS count_non_residential
    FROM rules_member_links AS ml
    JOIN norm_property AS pr ON pr.record_id = ml.record_id
    WHERE ml.dataset = 'property'
      AND pr.usage_code IN ('residential', 'non_residential')
),
per_member AS (
    SELECT member_key,
           count(DISTINCT record_id) FILTER (WHERE usage_code = 'residential') AS residential,
           count(DISTINCT record_id) FILTER (WHERE usage_code = 'non_residential') AS non_residential,
           sum(area) FILTER (WHERE usage_code = 'residential') AS residential_area,
           list(score ORDER BY score DESC) FILTER (WHERE usage_code = 'residential') AS residential_scores,
           any_value(min_units) AS min_units,
           any_value(min_area) AS min_area,
           any_value(count_non_residential) AS count_non_residential,
           any_value(household_size) AS household_size
    FROM units
    GROUP BY member_key
),
judged AS (
    SELECT *,
           residential >= min_units
               AND (min_area IS NULL OR residential_area IS NULL
                    OR residential_area / household_size > min_area) AS residential_hit,
           count_non_residential AND non_residential >= 1 AS non_residential_hit,
           residential_scores[min_units] AS residential_claim
    FROM per_member
)
SELECT
    'PROPERTY' AS finding_code,
    ml.* EXCLUDE (member_key, household_size, evidence, policy),
    CASE WHEN pr.usage_code = 'non_residential' THEN ml.score ELSE j.residential_claim END AS claim_score,
    ml.score AS ev_key1,
    -- a non-residential unit first, then the larger area
    (CASE WHEN pr.usage_code = 'non_residential' THEN 1e9 ELSE 0 END + coalesce(pr.area, 0))::DOUBLE AS ev_key2,
    '名下住宅' || j.residential || '套、非住宅' || j.non_residential || '套' AS summary,
    coalesce(pr.usage, pr.usage_code)
        || coalesce('，坐落' || pr.property_address, '')
        || coalesce('，' || printf('%.2f', pr.area) || '平方米', '')
        || '（' || coalesce(ml.evidence, '已关联') || '）' AS note,
    NULL::DOUBLE AS amount_gap
FROM rules_member_links AS ml
JOIN norm_property AS pr ON pr.record_id = ml.record_id
JOIN judged AS j ON j.member_key = ml.member_key
WHERE ml.dataset = 'property'
  AND ((pr.usage_code = 'residential' AND j.residential_hit)
       OR (pr.usage_code = 'non_residential' AND j.non_residential_hit))
