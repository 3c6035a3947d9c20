-- PROPERTY evidence: units of roll members who own too many homes or any non-residential unit.
-- Inputs: findings_members, links (dataset property), norm_property, findings_policy.
-- Grain: one row per (member, counted unit). Key: member_key, record_id.
-- Counted per member: property_min_residential_units or more residential units (and, when
-- property_min_area_per_capita is set and areas are given, residential area per household
-- member above it), or any non-residential unit when property_count_non_residential.
-- claim_score: a non-residential unit's own link score; for the residential count, the score
-- of the weakest unit needed to reach the count (the claim holds only if that link does).
WITH units AS (
    SELECT m.*, l.record_id, l.score::DOUBLE AS score, l.evidence,
           pr.usage, pr.usage_code, pr.area, pr.property_address,
           p.property_min_residential_units AS min_units,
           p.property_min_area_per_capita AS min_area,
           p.property_count_non_residential AS count_non_residential
    FROM findings_members AS m
    JOIN links AS l ON l.member_key = m.member_key AND l.dataset = 'property'
    JOIN norm_property AS pr ON pr.record_id = l.record_id
    JOIN findings_policy AS p
      ON p.district_code IS NOT DISTINCT FROM m.district_code
     AND p.category_code IS NOT DISTINCT FROM m.category_code
    WHERE pr.usage_code IN ('residential', 'non_residential')
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
    u.subject,
    u.member_seq AS member_pick,
    u.household_id,
    u.roll_id AS id_number,
    u.name,
    u.district_code,
    u.category_code,
    'property' AS dataset,
    u.record_id,
    u.score,
    CASE WHEN u.usage_code = 'non_residential' THEN u.score ELSE j.residential_claim END AS claim_score,
    u.score AS ev_key1,
    -- a non-residential unit first, then the larger area
    (CASE WHEN u.usage_code = 'non_residential' THEN 1e9 ELSE 0 END + coalesce(u.area, 0))::DOUBLE AS ev_key2,
    'owns ' || j.residential || ' residential and ' || j.non_residential
        || ' non-residential unit(s)' AS summary,
    coalesce(u.usage, u.usage_code)
        || coalesce(' at ' || u.property_address, '')
        || coalesce(', ' || printf('%.2f', u.area) || ' m²', '')
        || ' (' || coalesce(u.evidence, 'linked') || ')' AS note,
    u.monthly_amount AS amount_household,
    u.member_share AS amount_member,
    NULL::DOUBLE AS amount_gap
FROM units AS u
JOIN judged AS j USING (member_key)
WHERE (u.usage_code = 'residential' AND j.residential_hit)
   OR (u.usage_code = 'non_residential' AND j.non_residential_hit)
