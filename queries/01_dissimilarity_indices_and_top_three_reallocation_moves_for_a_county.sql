-- Question: for one county and month, what are the two dissimilarity indices (staff vs residents,
-- staff vs registered population), is the county flagged as allocating staff by registration, and
-- what are the three largest moves of the reallocation plan?
-- Marts: mart_staffing_mismatch_county (indices, flag), mart_reallocation_plan (moves).
-- Edit the county code and month in `params` (default: 湖里区, the latest month in the marts).
WITH params AS (
    SELECT
        '350206000000' AS county_code,
        (SELECT max(month) FROM marts.mart_staffing_mismatch_county) AS month
)
SELECT
    c.county_code,
    strftime(c.month, '%Y-%m') AS month,
    round(c.d_resident, 3) AS d_resident,
    round(c.d_registered, 3) AS d_registered,
    c.allocated_by_registration,
    round(c.posts_to_reallocate, 1) AS posts_to_reallocate,
    p.move_rank,
    p.from_unit_code,
    p.from_unit_name,
    p.to_unit_code,
    p.to_unit_name,
    round(p.fte, 2) AS fte
FROM marts.mart_staffing_mismatch_county AS c
JOIN params ON params.county_code = c.county_code AND params.month = c.month
LEFT JOIN marts.mart_reallocation_plan AS p
    ON p.county_code = c.county_code AND p.month = c.month AND p.move_rank <= 3
ORDER BY p.move_rank;
