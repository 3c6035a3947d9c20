-- pairs_candidates: every (evidence record, roll member) pair a blocking pass proposes, with the
-- size of the record's block in that pass (block_n: how many roll members the pass proposes for
-- the record). sql/link/pairs.sql keeps the blocks no larger than the configured cap.
-- inputs: evidence, roll_people, ev_variants (valid IDs one typo/swap away from an evidence
-- ID that fails its check digit), rp_variants (the same for roll IDs).
-- grain: (record, member, pass). match_key and pass: which blocking pass (Splink's match_key).
-- Passes 1-3 compare IDs (blocks of one or two); passes 4-8 compare names, dates and places,
-- whose blocks grow with the roll: per birth date a province's roll holds ~80 people. Every
-- pass is an equi-join.
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
    -- 6. no usable ID: the same birth date and name length, and the same first or the same
    -- last character (one shape-alike or unreadable character leaves one of them intact in
    -- any name of two or more characters; names of another length never agree). Each side
    -- gives two keys ('F' + first, 'L' + last) and the join is on equal keys: an OR in a join
    -- condition would make DuckDB compare every pair born that day
    SELECT e.record_id, r.member_key, 6, 'birth date and first or last character'
    FROM (SELECT record_id, birth, length(p_name) AS n,
                 unnest(['F' || left(p_name, 1), 'L' || right(p_name, 1)]) AS k
          FROM evidence WHERE p_id18 IS NULL AND p_name IS NOT NULL) AS e
    JOIN (SELECT member_key, birth, length(p_name) AS n,
                 unnest(['F' || left(p_name, 1), 'L' || right(p_name, 1)]) AS k
          FROM roll_people WHERE p_name IS NOT NULL) AS r
      ON e.birth = r.birth AND e.n = r.n AND e.k = r.k
    UNION ALL
    -- 7. no usable ID and no birth date: the same name or pinyin in the same community (keys
    -- 'N' + name and 'P' + pinyin, as above); a register that records where the person lives
    -- links there even when the district holds more namesakes than pass 8 may propose
    SELECT e.record_id, r.member_key, 7, 'name or pinyin in the community'
    FROM (SELECT record_id, district_code, street, community,
                 unnest(['N' || p_name, 'P' || p_name_pinyin]) AS k
          FROM evidence
          WHERE p_id18 IS NULL AND birth IS NULL AND community IS NOT NULL) AS e
    JOIN (SELECT member_key, district_code, street, community,
                 unnest(['N' || p_name, 'P' || p_name_pinyin]) AS k
          FROM roll_people) AS r
      ON e.district_code = r.district_code AND e.street = r.street
     AND e.community = r.community AND e.k = r.k
    UNION ALL
    -- 8. the same, in the same district
    SELECT e.record_id, r.member_key, 8, 'name or pinyin in the district'
    FROM (SELECT record_id, district_code,
                 unnest(['N' || p_name, 'P' || p_name_pinyin]) AS k
          FROM evidence WHERE p_id18 IS NULL AND birth IS NULL) AS e
    JOIN (SELECT member_key, district_code,
                 unnest(['N' || p_name, 'P' || p_name_pinyin]) AS k
          FROM roll_people) AS r
      ON e.district_code = r.district_code AND e.k = r.k
),
-- a pair a pass found twice (both its first and last characters agree) counts once
distinct_candidates AS (SELECT DISTINCT record_id, member_key, match_key, pass FROM candidates)
SELECT record_id, member_key, match_key, pass,
       count(*) OVER (PARTITION BY record_id, match_key) AS block_n
FROM distinct_candidates
