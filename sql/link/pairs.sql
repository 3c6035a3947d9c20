-- pairs: candidate (evidence record, roll member) pairs, from several blocking passes.
-- inputs: evidence, roll_people, ev_variants (valid IDs one typo/swap away from an evidence
-- ID that fails its check digit), rp_variants (the same for roll IDs).
-- grain: candidate pair. key: (record_id, member_key). match_key and pass: the first blocking
-- pass that found the pair (Splink's match_key), for link statistics per pass. Pairs inside one household are left out
-- (they matter only for roll-to-roll linking, where they are the same household's members).
WITH candidates AS (
    -- 1. the same valid (or repaired) ID
    SELECT e.record_id, r.member_key, 1 AS match_key, 'same ID' AS pass
    FROM evidence AS e JOIN roll_people AS r ON e.p_id18 = r.p_id18
    UNION ALL
    -- 2. a check-failing evidence ID one typo or swap from a roll ID
    SELECT v.record_id, r.member_key, 2, 'record ID one typo away'
    FROM ev_variants AS v JOIN roll_people AS r ON v.variant = r.p_id18
    UNION ALL
    -- 3. a check-failing roll ID one typo or swap from an evidence ID
    SELECT e.record_id, v.member_key, 3, 'roll ID one typo away'
    FROM evidence AS e JOIN rp_variants AS v ON e.p_id18 = v.variant
    UNION ALL
    -- 4. the same name and birth date (blank, mangled or differing IDs)
    SELECT e.record_id, r.member_key, 4, 'name and birth date'
    FROM evidence AS e JOIN roll_people AS r ON e.p_name = r.p_name AND e.birth = r.birth
    UNION ALL
    -- 5. the same pinyin and birth date (homophone characters)
    SELECT e.record_id, r.member_key, 5, 'pinyin and birth date'
    FROM evidence AS e
    JOIN roll_people AS r ON e.p_name_pinyin = r.p_name_pinyin AND e.birth = r.birth
    UNION ALL
    -- 6. no usable ID: the same birth date and name length (shape-alike characters)
    SELECT e.record_id, r.member_key, 6, 'birth date and name length'
    FROM evidence AS e
    JOIN roll_people AS r
      ON e.birth = r.birth AND length(e.p_name) = length(r.p_name)
    WHERE e.p_id18 IS NULL
    UNION ALL
    -- 7. no usable ID and no birth date: the same name or pinyin in the same district
    SELECT e.record_id, r.member_key, 7, 'name or pinyin in the district'
    FROM evidence AS e
    JOIN roll_people AS r
      ON e.district_code = r.district_code
     AND (e.p_name = r.p_name OR e.p_name_pinyin = r.p_name_pinyin)
    WHERE e.p_id18 IS NULL AND e.birth IS NULL
)
SELECT c.record_id, c.member_key,
       min(c.match_key) AS match_key, arg_min(c.pass, c.match_key) AS pass
FROM candidates AS c
JOIN evidence AS e USING (record_id)
JOIN roll_people AS r USING (member_key)
WHERE e.household_id IS NULL OR e.household_id <> r.household_id
GROUP BY c.record_id, c.member_key
