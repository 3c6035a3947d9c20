-- Roll members with their household's facts, the repaired ID and a deterministic order.
-- Inputs: roll_people, rules_households, norm_roll (p_id18).
-- Grain: one row per roll member. Key: member_key.
-- member_seq orders all members by (start date, household_id, member_key), the member's own
-- start date falling back to the household's, an unknown date counting as the earliest: a
-- person-level finding is raised on the person's first member row (the earlier enrolment), a
-- duplicate receipt on the later one. subject is the person (person_key, else the member row).
SELECT
    rp.member_key,
    coalesce(rp.person_key, 'member:' || rp.member_key::VARCHAR) AS subject,
    rp.household_id,
    rp.roll_id,
    rp.name,
    rp.relation,
    nr.p_id18,
    h.district_code,
    h.category_code,
    h.household_size,
    h.monthly_amount,
    h.monthly_amount / h.household_size AS member_share,
    coalesce(rp.start_date, h.start_date) AS start_key,
    row_number() OVER (ORDER BY coalesce(rp.start_date, h.start_date) NULLS FIRST,
                                rp.household_id, rp.member_key) AS member_seq
FROM roll_people AS rp
JOIN rules_households AS h USING (household_id)
LEFT JOIN norm_roll AS nr ON nr._row = rp.member_key
