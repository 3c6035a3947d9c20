-- Who handled each household's case: approved_by resolved to a staff member.
-- Inputs: rules_households, norm_staff, rules_approver_names (approved_by -> normalised
-- name, made in Python with the names module).
-- Grain: one row per household with an approved_by value. Key: household_id.
-- approved_by is a staff_id (compared case-insensitively), else a name matched to staff of the
-- household's district by exact normalised name; a name shared by several staff members of the
-- district matches nobody (matched_by 'ambiguous name'), an unknown value 'not found'.
WITH cases AS (
    SELECT h.household_id, h.district_code, h.approved_by, n.name_norm
    FROM rules_households AS h
    LEFT JOIN rules_approver_names AS n USING (approved_by)
    WHERE h.approved_by IS NOT NULL
),
staff AS (
    SELECT DISTINCT staff_id, p_name, district_code FROM norm_staff WHERE staff_id IS NOT NULL
),
by_id AS (
    SELECT c.household_id, min(s.staff_id) AS staff_id
    FROM cases AS c
    JOIN staff AS s ON upper(s.staff_id) = upper(c.approved_by)
    GROUP BY c.household_id
),
by_name AS (
    SELECT c.household_id, min(s.staff_id) AS staff_id, count(DISTINCT s.staff_id) AS candidates
    FROM cases AS c
    JOIN staff AS s ON s.p_name = c.name_norm AND s.district_code = c.district_code
    GROUP BY c.household_id
)
SELECT
    c.household_id,
    c.approved_by,
    coalesce(i.staff_id, CASE WHEN n.candidates = 1 THEN n.staff_id END) AS staff_id,
    CASE WHEN i.staff_id IS NOT NULL THEN 'staff_id'
         WHEN n.candidates = 1 THEN 'name'
         WHEN n.candidates > 1 THEN 'ambiguous name'
         ELSE 'not found' END AS matched_by
FROM cases AS c
LEFT JOIN by_id AS i USING (household_id)
LEFT JOIN by_name AS n USING (household_id)
