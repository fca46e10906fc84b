-- Question (人少事多): which units have fewer staff per 10,000 residents than their county and more
-- cases per staff FTE than their county, in the latest month?
-- Marts: mart_workload (cases per FTE), mart_staffing_mismatch (staff per 10k residents), and the
-- county values from mart_workload_county and mart_staffing_mismatch_county.
WITH latest AS (SELECT max(month) AS month FROM marts.mart_workload)
SELECT
    w.county_code,
    w.unit_code,
    d.unit_name,
    d.township_name,
    round(m.staff_per_10k_residents, 1) AS staff_per_10k_residents,
    round(mc.staff_per_10k_residents, 1) AS county_staff_per_10k_residents,
    round(w.cases_per_fte, 2) AS cases_per_fte,
    round(wc.cases_per_fte, 2) AS county_cases_per_fte,
    w.backlog_month_end
FROM marts.mart_workload AS w
JOIN latest ON latest.month = w.month
JOIN marts.mart_staffing_mismatch AS m ON m.unit_code = w.unit_code AND m.month = w.month
JOIN marts.mart_workload_county AS wc ON wc.county_code = w.county_code AND wc.month = w.month
JOIN marts.mart_staffing_mismatch_county AS mc ON mc.county_code = w.county_code AND mc.month = w.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = w.unit_code
WHERE m.staff_per_10k_residents < mc.staff_per_10k_residents
  AND w.cases_per_fte > wc.cases_per_fte
ORDER BY w.cases_per_fte DESC, w.unit_code;
