-- Roll members of every household with a finding, as the review app shows them.
-- Inputs: roll_people, norm_roll (phone as written), findings.
-- Grain: one row per roll member. Key: member_key.
-- id_number is the roll's, repaired to 18 digits where repairable (as in findings.csv);
-- id_as_written the roll's own text of it where that differs (15 digits, spaces, 4.20102E+17).
SELECT
    rp.household_id,
    rp.member_key::BIGINT AS member_key,
    rp.name,
    rp.roll_id AS id_number,
    CASE WHEN nr.id_number IS DISTINCT FROM rp.roll_id THEN nr.id_number END AS id_as_written,
    rp.relation,
    rp.district,
    rp.street,
    rp.community,
    rp.address,
    nr.phone,
    rp.category,
    rp.household_size::BIGINT AS household_size,
    rp.monthly_amount::DOUBLE AS monthly_amount,
    strftime(rp.start_date, '%Y-%m-%d') AS start_date,
    rp.approved_by,
    rp.bank_account
FROM roll_people AS rp
JOIN norm_roll AS nr ON nr._row = rp.member_key
WHERE rp.household_id IN (SELECT household_id FROM findings WHERE household_id IS NOT NULL)
ORDER BY rp.household_id, rp.member_key
