-- Workload and responsiveness per county and month: the same definitions as mart_workload
-- (macros/workload.sql) over all the county's cases, so medians and p90 are the county's own (not an
-- average of units'); counts equal the sums over the county's units in mart_workload when every case's
-- unit is on the spine (tested). Staff = all FTE of the county's roster (villages and township offices).

with

county_months as (

    select distinct
        county_code,
        month
    from {{ ref('int_unit_months') }}

),

cases as (

    select * from {{ ref('fct_cases') }}

),

unit_workload as (

    select * from {{ ref('mart_workload') }}

),

received as (

    select
        county_code,
        reported_month as month,
        {{ case_counts() }}
    from cases
    group by county_code, reported_month

),

unit_totals as (

    select
        county_code,
        month,
        count(*) as units_evaluated,
        sum(case when cases_received > 0 then 1 else 0 end) as units_with_cases,
        sum(backlog_month_end) as backlog_month_end,
        max(case when has_roster then 1 else 0 end) = 1 as has_roster,
        sum(staff_fte) as staff_fte,
        sum(resident_population) as resident_population
    from unit_workload
    group by county_code, month

),

joined as (

    select
        county_months.county_code,
        county_months.month,
        unit_totals.units_evaluated,
        unit_totals.units_with_cases,
        unit_totals.has_roster,
        unit_totals.staff_fte,
        unit_totals.resident_population,
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
        coalesce(unit_totals.backlog_month_end, 0) as backlog_month_end,
        received.response_hours_median,
        received.response_hours_p90,
        received.closure_hours_median,
        received.closure_hours_p90
    from county_months
    left join received
        on
            county_months.county_code = received.county_code
            and county_months.month = received.month
    left join unit_totals
        on
            county_months.county_code = unit_totals.county_code
            and county_months.month = unit_totals.month

),

final as (

    select
        county_code,
        month,
        units_evaluated,
        units_with_cases,
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
        {{ case_rates() }}
    from joined

)

select * from final
