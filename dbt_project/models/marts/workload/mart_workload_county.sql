-- Workload and responsiveness per county and month: the same definitions as mart_workload
-- (macros/workload.sql) over all the county's cases, so medians and p90 are the county's own (not an
-- average of units'); counts equal the sums over the county's units in mart_workload when every case's
-- unit is on the spine (tested). Staff = all FTE of the county's roster (villages and township offices).
-- mart_workload_township is the same roll-up per township (and sums to this mart, tested).

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
        {{ unit_workload_totals() }}
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
        {{ column_list(case_count_names(), 'received', coalesce_to=0) }},
        coalesce(unit_totals.backlog_month_end, 0) as backlog_month_end,
        coalesce(unit_totals.stale_open_cases, 0) as stale_open_cases,
        {{ column_list(case_hours_names(), 'received') }}
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
        {{ column_list(case_count_names()) }},
        {{ staff_workload_measures() }},
        {{ column_list(case_hours_names(), to_double=true) }},
        {{ case_rates() }}
    from joined

)

select * from final
