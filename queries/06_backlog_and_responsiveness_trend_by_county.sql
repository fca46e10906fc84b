-- Question: month by month, how many cases did each county receive, how many were still open at
-- month end (and how many older ones are stale), and how fast were they answered and closed
-- (calendar and working hours apart)?
-- Mart: mart_workload_county.
SELECT
    w.county_code,
    d.county_name,
    strftime(w.month, '%Y-%m') AS month,
    w.cases_received,
    w.backlog_month_end,
    round(w.backlog_per_fte, 2) AS backlog_per_fte,
    w.stale_open_cases,
    round(w.response_calendar_hours_median, 1) AS response_calendar_hours_median,
    round(w.response_working_hours_median, 1) AS response_working_hours_median,
    round(w.closure_calendar_hours_median, 1) AS closure_calendar_hours_median,
    round(w.closure_working_hours_median, 1) AS closure_working_hours_median,
    round(w.responded_within_sla_rate, 3) AS responded_within_sla_rate,
    round(w.closed_within_sla_rate, 3) AS closed_within_sla_rate
FROM marts.mart_workload_county AS w
LEFT JOIN marts.dim_unit AS d ON d.unit_code = w.county_code
ORDER BY w.county_code, w.month;
