-- Workload and responsiveness per township (乡镇/街道) and month: the roll-up of mart_workload_county
-- (macros/workload.sql) at township level. A township's cases are those of its villages and
-- communities plus those of the township office itself (fct_cases.township_code, derived from the
-- unit code), so medians and p90 are the township's own. Staff = FTE of the township's evaluated units
-- (villages and the township office); no roster → staff null and per-FTE measures null. The townships
-- of a county sum to mart_workload_county (tested).

with

township_months as (

    select distinct
        township_code,
        county_code,
        month
    from {{ ref('int_unit_months') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

cases as (

    select * from {{ ref('fct_cases') }}

),

unit_workload as (

    select * from {{ ref('mart_workload') }}

),

received as (

    select
        township_code,
        reported_month as month,
        {{ case_counts() }}
    from cases
    group by township_code, reported_month

),

unit_totals as (

    select
        township_code,
        month,
        {{ unit_workload_totals() }}
    from unit_workload
    group by township_code, month

),

joined as (

    select
        township_months.township_code,
        township_months.month,
        township_months.county_code,
        units.unit_name as township_name,
        unit_totals.units_evaluated,
        unit_totals.units_with_cases,
        unit_totals.has_roster,
        unit_totals.staff_fte,
        unit_totals.resident_population,
        {{ column_list(case_count_names(), 'received', coalesce_to=0) }},
        coalesce(unit_totals.backlog_month_end, 0) as backlog_month_end,
        coalesce(unit_totals.stale_open_cases, 0) as stale_open_cases,
        {{ column_list(case_hours_names(), 'received') }}
    from township_months
    left join units
        on township_months.township_code = units.unit_code
    left join received
        on
            township_months.township_code = received.township_code
            and township_months.month = received.month
    left join unit_totals
        on
            township_months.township_code = unit_totals.township_code
            and township_months.month = unit_totals.month

),

final as (

    select
        township_code,
        month,
        county_code,
        township_name,
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
