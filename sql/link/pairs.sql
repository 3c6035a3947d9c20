-- pairs: candidate (evidence record, roll member) pairs, from the blocking passes of
-- sql/link/pairs_candidates.sql. A name or date pass (4-8) that proposes more than
-- $max_candidates roll members for a record proposes none for it (the record is counted per
-- pass in the link statistics, never silently dropped): a name that many people share there
-- could not single one out. ID passes are never capped.
-- grain: candidate pair. key: (record_id, member_key). match_key and pass: the first blocking
-- pass that found the pair (Splink's match_key), for link statistics per pass. Pairs inside one
-- household are left out (they matter only for roll-to-roll linking, where they are the same
-- household's members).
SELECT c.record_id, c.member_key,
       min(c.match_key) AS match_key, arg_min(c.pass, c.match_key) AS pass
FROM pairs_candidates AS c
JOIN evidence AS e USING (record_id)
JOIN roll_people AS r USING (member_key)
WHERE (c.match_key <= 3 OR c.block_n <= $max_candidates)
  AND (e.household_id IS NULL OR e.household_id <> r.household_id)
GROUP BY c.record_id, c.member_key
