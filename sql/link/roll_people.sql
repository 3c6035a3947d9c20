-- roll_people: one row per loaded roll member, household-level values spread to every member.
-- inputs: norm_roll. grain: roll row. key: member_key (= the roll's source row number).
-- Household values (size, amount, start date, approver) may be written on the head's row only:
-- the head's value wins, else any member's. person_key starts as the valid ID (else the row);
-- roll-to-roll linking later merges rows that are the same person.
WITH household AS (
    SELECT household_id,
           coalesce(max(household_size) FILTER (WHERE relation IN ('户主', '本人')),
                    max(household_size)) AS household_size,
           coalesce(max(monthly_amount) FILTER (WHERE relation IN ('户主', '本人')),
                    max(monthly_amount)) AS monthly_amount,
           coalesce(min(start_date) FILTER (WHERE relation IN ('户主', '本人')),
                    min(start_date)) AS start_date,
           coalesce(max(approved_by) FILTER (WHERE relation IN ('户主', '本人')),
                    max(approved_by)) AS approved_by,
           count(*) AS members_listed
    FROM norm_roll
    GROUP BY household_id
)
SELECT r._row AS member_key,
       r.household_id,
       coalesce(r.p_id18, 'row:' || r._row) AS person_key,
       coalesce(r.p_id18, r.id_number) AS roll_id,
       r.name,
       r.relation,
       r.district,
       r.district_code,
       r.category,
       r.category_code,
       r.street,
       r.community,
       r.address,
       h.household_size,
       h.monthly_amount,
       h.start_date,
       h.approved_by,
       h.members_listed,
       r.phone_norm,
       r.phone_kind,
       r.bank_account,
       r.bank_account_norm,
       r.p_name,
       r.p_name_pinyin,
       r.p_id18,
       r.p_id_clean,
       r.p_id_status,
       coalesce(r.p_birth_date,
                try_strptime(substr(r.p_id_clean, 7, 8), '%Y%m%d')::DATE) AS birth,
       CASE WHEN r.p_birth_date IS NOT NULL THEN 'id'
            WHEN r.p_id_clean IS NOT NULL THEN 'clean' END AS birth_source,
       r.p_sex
FROM norm_roll AS r
JOIN household AS h USING (household_id)
