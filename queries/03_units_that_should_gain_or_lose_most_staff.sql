-- Question: in a county and month, which units are furthest from their fair share of staff by
-- resident population (该增的增、该减的减)? Positive delta = should gain staff.
-- Mart: mart_staffing_mismatch (units of the allocation base).
WITH params AS (
    SELECT
        '350206000000' AS county_code,
        (SELECT max(month) FROM marts.mart_staffing_mismatch) AS month
)
SELECT
    m.unit_code,
    d.unit_name,
    d.township_name,
    m.staff_fte,
    m.resident_population,
    m.registered_population,
    round(m.staff_share, 4) AS staff_share,
    round(m.resident_share, 4) AS resident_share,
    round(m.registered_share, 4) AS registered_share,
    round(m.fair_share_staff, 2) AS fair_share_staff,
    round(m.reallocation_delta, 2) AS reallocation_delta
FROM marts.mart_staffing_mismatch AS m
JOIN params ON params.county_code = m.county_code AND params.month = m.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = m.unit_code
WHERE m.in_allocation_base
ORDER BY abs(m.reallocation_delta) DESC, m.unit_code
LIMIT 20;
