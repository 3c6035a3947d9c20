-- pairs for kin filings: every member of the filed household is a candidate.
-- inputs: evidence (from kin_filings), roll_people. grain: pair. key: (record_id, member_key).
SELECT DISTINCT e.record_id, r.member_key, 1 AS match_key, 'the filed household' AS pass
FROM evidence AS e
JOIN roll_people AS r ON e.household_id = r.household_id
