-- The removal list (应退尽退): households with any removal-type finding, ranked.
-- Inputs: findings (every code but ADD_CANDIDATE, of the match tiers in $tiers: rules.yaml
-- remove_list_tiers), rules_households.
-- Grain: one row per household. Key: household_id (and rank).
-- priority = the household's highest finding priority (severity weight x amount x score);
-- rank by priority desc, then household_id. The proposed action is that of the
-- highest-priority finding; codes and ids follow the contract's code order.
WITH per_household AS (
    SELECT household_id,
           max(priority) AS priority,
           first(action ORDER BY priority DESC, code_order, finding_id) AS proposed_action,
           string_agg(finding_code, ';' ORDER BY code_order, finding_id) AS finding_codes,
           string_agg(finding_id, ';' ORDER BY code_order, finding_id) AS finding_ids
    FROM findings
    WHERE finding_code <> 'ADD_CANDIDATE' AND household_id IS NOT NULL
      AND list_contains($tiers, tier)
    GROUP BY household_id
)
SELECT
    row_number() OVER (ORDER BY p.priority DESC, p.household_id) AS rank,
    p.household_id,
    h.district,
    h.street,
    h.community,
    h.head_name,
    h.members,
    round(h.monthly_amount, 2) AS monthly_amount,
    p.proposed_action,
    p.priority,
    p.finding_codes,
    p.finding_ids
FROM per_household AS p
JOIN rules_households AS h USING (household_id)
ORDER BY rank
