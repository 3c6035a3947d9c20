-- The roll's members as this audit saw them, with a reference that is stable across months.
-- Inputs: roll_people. Grain: one row per roll member. Key: member_key.
-- person_ref: the repaired 18-digit ID, else the ID as written, else 'name:' + the normalised
-- name (unique enough within one household, which is where members are compared).
SELECT
    household_id,
    member_key::BIGINT AS member_key,
    coalesce(p_id18, nullif(trim(roll_id), ''), 'name:' || coalesce(p_name, name)) AS person_ref,
    roll_id AS id_number,
    name,
    relation
FROM roll_people
ORDER BY household_id, member_key
