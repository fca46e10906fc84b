-- Question: which units fall short of the staffing norms (community workers per 10,000 residents,
-- grid workers per grid, certified share), and by how many FTE, in the latest month?
-- Mart: mart_staffing (norms from the staffing_norms seed). staffing_gap > 0 = understaffed.
WITH latest AS (SELECT max(month) AS month FROM marts.mart_staffing)
SELECT
    s.county_code,
    s.unit_code,
    d.unit_name,
    s.urban_rural_class,
    s.total_fte,
    round(s.required_staff_fte, 1) AS required_staff_fte,
    round(s.staffing_gap, 1) AS staffing_gap,
    round(s.community_worker_gap, 1) AS community_worker_gap,
    round(s.grid_worker_gap, 1) AS grid_worker_gap,
    s.meets_community_worker_norm,
    s.meets_certification_norm
FROM marts.mart_staffing AS s
JOIN latest ON latest.month = s.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = s.unit_code
WHERE s.staffing_gap IS NOT NULL
ORDER BY s.staffing_gap DESC, s.unit_code;
