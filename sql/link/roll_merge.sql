-- roll_merge: roll rows without a valid ID linked (by the roll's link with itself) to a row of
-- the same person with one: that person's key. inputs: links_roll, roll_people.
-- grain: roll member. key: member_key.
SELECT r.member_key, min(o.person_key) AS other_key
FROM links_roll AS l
JOIN roll_people AS r ON r.member_key = l.member_key
JOIN roll_people AS o ON o.member_key = CAST(l.record_id AS BIGINT)
WHERE r.p_id18 IS NULL AND o.p_id18 IS NOT NULL
GROUP BY r.member_key
