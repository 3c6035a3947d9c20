-- Households of the roll with the facts the rules and the lists need.
-- Inputs: roll_people (one row per roll member), norm_roll (the district as written).
-- Grain: one row per household. Key: household_id.
-- Household values come from the head's row (relation 户主/本人), else the first row that has
-- one (smallest member_key). household_size falls back to the number of roll rows when blank
-- or not positive; start_date is the household's earliest.
WITH member_rows AS (
    SELECT rp.*, nr.district AS district_name,
           coalesce(rp.relation IN ('户主', '本人'), false) AS is_head
    FROM roll_people AS rp
    LEFT JOIN norm_roll AS nr ON nr._row = rp.member_key
)
SELECT
    household_id,
    first(district_name ORDER BY is_head DESC, member_key) FILTER (WHERE district_name IS NOT NULL) AS district,
    first(district_code ORDER BY is_head DESC, member_key) FILTER (WHERE district_code IS NOT NULL) AS district_code,
    first(category_code ORDER BY is_head DESC, member_key) FILTER (WHERE category_code IS NOT NULL) AS category_code,
    first(street ORDER BY is_head DESC, member_key) FILTER (WHERE street IS NOT NULL) AS street,
    first(community ORDER BY is_head DESC, member_key) FILTER (WHERE community IS NOT NULL) AS community,
    first(approved_by ORDER BY is_head DESC, member_key) FILTER (WHERE approved_by IS NOT NULL) AS approved_by,
    coalesce(first(household_size ORDER BY is_head DESC, member_key) FILTER (WHERE household_size > 0),
             count(*))::BIGINT AS household_size,
    count(*)::BIGINT AS members,
    max(monthly_amount)::DOUBLE AS monthly_amount,
    min(start_date) AS start_date,
    first(member_key ORDER BY is_head DESC, member_key) AS head_member_key,
    first(name ORDER BY is_head DESC, member_key) AS head_name,
    first(roll_id ORDER BY is_head DESC, member_key) AS head_id
FROM member_rows
GROUP BY household_id
