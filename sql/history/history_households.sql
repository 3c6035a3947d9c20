-- The roll's households as this audit saw them: the snapshot kept in the warehouse.
-- Inputs: rules_households. Grain: one row per household. Key: household_id.
-- category is the roll's label (城市低保/农村低保); members = roll rows (保障人数).
SELECT
    household_id,
    district,
    street,
    community,
    head_name,
    CASE category_code WHEN 'urban' THEN '城市低保' WHEN 'rural' THEN '农村低保' END AS category,
    household_size,
    members,
    round(monthly_amount, 2) AS monthly_amount
FROM rules_households
ORDER BY household_id
