-- Question: the three rates of 接诉即办 (response, resolution, satisfaction) for every unit with
-- cases in the latest month, ranked within its township by response rate.
-- Mart: mart_workload.
WITH latest AS (SELECT max(month) AS month FROM marts.mart_workload)
SELECT
    d.township_name,
    w.unit_code,
    d.unit_name,
    w.cases_received,
    round(w.response_rate, 3) AS response_rate,
    round(w.resolution_rate, 3) AS resolution_rate,
    round(w.satisfaction_rate, 3) AS satisfaction_rate,
    rank() OVER (PARTITION BY w.township_code ORDER BY w.response_rate DESC NULLS LAST) AS rank_in_township
FROM marts.mart_workload AS w
JOIN latest ON latest.month = w.month
LEFT JOIN marts.dim_unit AS d ON d.unit_code = w.unit_code
WHERE w.cases_received > 0
ORDER BY w.township_code, rank_in_township, w.unit_code;
