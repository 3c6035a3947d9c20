-- evidence: the person columns of one evidence dataset, in the shape the matcher compares.
-- inputs: ev_located (a temp view: norm_<dataset> with district_code, street, community, address
-- and household_id added where the dataset has them). grain: evidence record. key: record_id.
-- birth: the record's own birth date, else the one in its ID; birth_source says which ('clean':
-- read from an ID that fails its check digit, so possibly from a mistyped digit).
SELECT record_id,
       p_name,
       p_name_raw,
       p_name_pinyin,
       p_id18,
       p_id_clean,
       p_id_status,
       coalesce(own_birth, p_birth_date,
                try_strptime(substr(p_id_clean, 7, 8), '%Y%m%d')::DATE) AS birth,
       CASE WHEN own_birth IS NOT NULL THEN 'column'
            WHEN p_birth_date IS NOT NULL THEN 'id'
            WHEN p_id_clean IS NOT NULL THEN 'clean' END AS birth_source,
       p_sex,
       district_code,
       street,
       community,
       address,
       household_id,
       relation,      -- declared relatives: the relation to the staff member ...
       anchor_birth,  -- ... and that staff member's birth date and sex
       anchor_sex
FROM ev_located
