-- Question: which counties allocate their staff by registered rather than resident population
-- (D_registered < D_resident), in which months, and how many posts would the plan move?
-- Mart: mart_staffing_mismatch_county. Flagged counties first; add
-- `WHERE c.allocated_by_registration` to see only those.
SELECT
    c.county_code,
    d.county_name,
    strftime(c.month, '%Y-%m') AS month,
    round(c.county_residence_ratio, 3) AS resident_per_registered,
    round(c.d_resident, 3) AS d_resident,
    round(c.d_registered, 3) AS d_registered,
    round(c.d_gap, 3) AS d_gap,
    c.allocated_by_registration,
    round(c.posts_to_reallocate, 1) AS posts_to_reallocate
FROM marts.mart_staffing_mismatch_county AS c
LEFT JOIN marts.dim_unit AS d ON d.unit_code = c.county_code
ORDER BY c.allocated_by_registration DESC, c.d_gap DESC, c.county_code, c.month;
