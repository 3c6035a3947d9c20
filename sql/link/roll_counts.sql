-- roll_counts: how many roll people carry each name, live in each place and were born on each
-- day, made once per run after the roll's persons are merged (and read by pair_features.sql for
-- every dataset). inputs: roll_people. grain: one row per (kind, key).
-- kind 'name': key1 = name; 'community': key1-3 = district code, street, community; 'street':
-- key1-2; 'district': key1; 'birth': key1 = the date as text; 'roll': every person (n = all).
-- People are counted as pair_features always did: distinct (person, name, place) for names and
-- places, distinct persons for birth dates.
WITH people AS (
    SELECT DISTINCT person_key, p_name, district_code, street, community FROM roll_people
)
SELECT 'name' AS kind, p_name AS key1, NULL::VARCHAR AS key2, NULL::VARCHAR AS key3,
       count(*) AS n
FROM people WHERE p_name IS NOT NULL GROUP BY p_name
UNION ALL
SELECT 'community', district_code, street, community, count(*) FROM people GROUP BY ALL
UNION ALL
SELECT 'street', district_code, street, NULL, count(*) FROM people GROUP BY ALL
UNION ALL
SELECT 'district', district_code, NULL, NULL, count(*) FROM people GROUP BY ALL
UNION ALL
SELECT 'birth', CAST(birth AS VARCHAR), NULL, NULL, count(DISTINCT person_key)
FROM roll_people WHERE birth IS NOT NULL GROUP BY birth
UNION ALL
SELECT 'roll', NULL, NULL, NULL, count(*) FROM people
