-- Workload and responsiveness per evaluated unit and month (DESIGN §5), from fct_cases.
-- Cases belong to the unit they arose in (unit_code) and to the month they were reported in; their
-- measures are those of the latest version (so a recent month's rates still move as its cases close).
-- Backlog at month end: cases reported by the month end, not cancelled, and not closed by then
-- (closed in a later month or still open). Rates: see macros/workload.sql and the docs.
-- No roster → staff unknown → per-FTE measures null; 0 cases → counts 0, rates null.

with

unit_months as (

    select * from {{ ref('int_unit_months') }}

),

cases as (

    select * from {{ ref('fct_cases') }}

),

staffing as (

    select * from {{ ref('int_staffing_unit_months') }}

),

population as (

    select * from {{ ref('int_population_unit_months') }}

),

received as (

    select
        unit_code,
        reported_month as month,
        {{ case_counts() }}
    from cases
    group by unit_code, reported_month

),

-- +1 in the month a (non-cancelled) case is reported, −1 in the month it is closed
backlog_events as (

    select
        unit_code,
        reported_month as event_month,
        1 as backlog_change
    from cases
    where not is_cancelled
    union all
    select
        unit_code,
        closed_month as event_month,
        -1 as backlog_change
    from cases
    where not is_cancelled and is_closed

),

backlog_by_month as (

    select
        unit_code,
        event_month,
        sum(backlog_change) as backlog_change
    from backlog_events
    group by unit_code, event_month

),

backlog as (

    select
        unit_months.unit_code,
        unit_months.month,
        sum(backlog_by_month.backlog_change) as backlog_month_end
    from unit_months
    inner join backlog_by_month
        on
            unit_months.unit_code = backlog_by_month.unit_code
            and unit_months.month >= backlog_by_month.event_month
    group by unit_months.unit_code, unit_months.month

),

joined as (

    select
        unit_months.unit_code,
        unit_months.month,
        unit_months.county_code,
        unit_months.township_code,
        unit_months.unit_level,
        staffing.has_roster,
        staffing.total_fte as staff_fte,
        population.resident_population,
        coalesce(received.cases_received, 0) as cases_received,
        coalesce(received.cases_cancelled, 0) as cases_cancelled,
        coalesce(received.cases_responded, 0) as cases_responded,
        coalesce(received.cases_responded_within_sla, 0) as cases_responded_within_sla,
        coalesce(received.cases_closed, 0) as cases_closed,
        coalesce(received.cases_closed_within_sla, 0) as cases_closed_within_sla,
        coalesce(received.cases_escalated, 0) as cases_escalated,
        coalesce(received.cases_resolved_locally, 0) as cases_resolved_locally,
        coalesce(received.cases_rated, 0) as cases_rated,
        coalesce(received.cases_satisfied, 0) as cases_satisfied,
        coalesce(received.cases_repeat, 0) as cases_repeat,
        coalesce(received.cases_resident_initiated, 0) as cases_resident_initiated,
        coalesce(received.cases_digital_channel, 0) as cases_digital_channel,
        coalesce(backlog.backlog_month_end, 0) as backlog_month_end,
        received.response_hours_median,
        received.response_hours_p90,
        received.closure_hours_median,
        received.closure_hours_p90,
        received.response_working_hours_median,
        received.closure_working_hours_median
    from unit_months
    left join received
        on
            unit_months.unit_code = received.unit_code
            and unit_months.month = received.month
    left join backlog
        on
            unit_months.unit_code = backlog.unit_code
            and unit_months.month = backlog.month
    left join staffing
        on
            unit_months.unit_code = staffing.unit_code
            and unit_months.month = staffing.month
    left join population
        on
            unit_months.unit_code = population.unit_code
            and unit_months.month = population.month

),

final as (

    select
        unit_code,
        month,
        county_code,
        township_code,
        unit_level,
        has_roster,
        staff_fte,
        resident_population,
        cases_received,
        cases_cancelled,
        cases_responded,
        cases_responded_within_sla,
        cases_closed,
        cases_closed_within_sla,
        cases_escalated,
        cases_resolved_locally,
        cases_rated,
        cases_satisfied,
        cases_repeat,
        cases_resident_initiated,
        cases_digital_channel,
        {{ safe_divide('cases_received', 'staff_fte') }} as cases_per_fte,
        {{ safe_divide('cases_received * 10000', 'resident_population') }} as cases_per_10k_residents,
        backlog_month_end,
        {{ safe_divide('backlog_month_end', 'staff_fte') }} as backlog_per_fte,
        {{ to_float('response_hours_median') }} as response_hours_median,
        {{ to_float('response_hours_p90') }} as response_hours_p90,
        {{ to_float('closure_hours_median') }} as closure_hours_median,
        {{ to_float('closure_hours_p90') }} as closure_hours_p90,
        {{ to_float('response_working_hours_median') }} as response_working_hours_median,
        {{ to_float('closure_working_hours_median') }} as closure_working_hours_median,
        {{ case_rates() }}
    from joined

)

select * from final
