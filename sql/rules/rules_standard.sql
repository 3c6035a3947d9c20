-- The monthly standard in force at the audit date per district and category.
-- Inputs: norm_standards; $as_of.
-- Grain: one row per (district_code, category_code). Key: district_code, category_code.
-- The latest effective_date on or before $as_of wins; a row without effective_date applies
-- when no dated row does. Two rows for the same date: the one written later in the file wins.
SELECT district_code, category_code, monthly_standard::DOUBLE AS standard, effective_date
FROM norm_standards
WHERE district_code IS NOT NULL
  AND category_code IS NOT NULL
  AND monthly_standard IS NOT NULL
  AND (effective_date IS NULL OR effective_date <= $as_of)
QUALIFY row_number() OVER (PARTITION BY district_code, category_code
                           ORDER BY effective_date DESC NULLS LAST, _row DESC) = 1
