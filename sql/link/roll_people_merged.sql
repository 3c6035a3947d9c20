-- roll_people_merged: roll_people with each person's rows under one person_key (roll_merge),
-- in roll_people's row order. inputs: roll_people, roll_merge. grain: roll member. key:
-- member_key. Replaces roll_people once the roll is linked with itself.
SELECT r.* REPLACE (coalesce(m.other_key, r.person_key) AS person_key)
FROM (SELECT *, row_number() OVER () AS _position FROM roll_people) AS r
LEFT JOIN roll_merge AS m USING (member_key)
ORDER BY r._position
