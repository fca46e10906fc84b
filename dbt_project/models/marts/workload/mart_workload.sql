-- Workload and responsiveness per evaluated unit and month (DESIGN §5), from fct_cases.
-- Cases belong to the unit they arose in (unit_code) and to the month they were reported in; their
-- measures are those of the latest version (so a recent month's rates still move as its cases close).
-- Valid cases = received − cancelled: the denominator of every rate over cases (macros/workload.sql).
-- Backlog at month end (docs block backlog_month_end): valid cases reported by the month end, not
-- closed by then, and reported at most var backlog_max_age_days (365) days before the month end;
-- older ones still open are stale_open_cases (never-closed cases of an old delivery do not inflate
-- today's backlog). Both are running sums of monthly events:
--   +1 backlog in the reported month;
--   the case leaves the backlog in the earlier of its closed month and its aged-out month, the first
--   month whose end is more than backlog_max_age_days after the reported date
--   (= month of reported date + backlog_max_age_days + 1 day);
--   if it ages out before it closes: +1 stale in the aged-out month, −1 stale in the closed month.
-- No roster → staff unknown → per-FTE measures null (per_fte_null_reason); 0 cases → counts 0,
-- rates null (<rate>_null_reason).
{%- set max_age_days = var('backlog_max_age_days') %}

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

case_ages as (

    select
        unit_code,
        reported_month,
        case when is_closed then closed_month end as closed_month,
        {{ month_start(dbt.dateadd('day', max_age_days + 1, 'cast(reported_at as date)')) }} as aged_out_month
    from cases
    where not is_cancelled

),

backlog_events as (

    select
        unit_code,
        reported_month as event_month,
        1 as backlog_change,
        0 as stale_change
    from case_ages
    union all
    -- leaves the backlog: closed or aged out, whichever comes first
    select
        unit_code,
        case
            when closed_month is not null and closed_month <= aged_out_month then closed_month
            else aged_out_month
        end as event_month,
        -1 as backlog_change,
        0 as stale_change
    from case_ages
    union all
    -- aged out while still open: stale from the aged-out month until closed
    select
        unit_code,
        aged_out_month as event_month,
        0 as backlog_change,
        1 as stale_change
    from case_ages
    where closed_month is null or closed_month > aged_out_month
    union all
    select
        unit_code,
        closed_month as event_month,
        0 as backlog_change,
        -1 as stale_change
    from case_ages
    where closed_month > aged_out_month

),

backlog_by_month as (

    select
        unit_code,
        event_month,
        sum(backlog_change) as backlog_change,
        sum(stale_change) as stale_change
    from backlog_events
    group by unit_code, event_month

),

backlog as (

    select
        unit_months.unit_code,
        unit_months.month,
        sum(backlog_by_month.backlog_change) as backlog_month_end,
        sum(backlog_by_month.stale_change) as stale_open_cases
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
        {{ column_list(case_count_names(), 'received', coalesce_to=0) }},
        coalesce(backlog.backlog_month_end, 0) as backlog_month_end,
        coalesce(backlog.stale_open_cases, 0) as stale_open_cases,
        {{ column_list(case_hours_names(), 'received') }}
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
        {{ column_list(case_count_names()) }},
        {{ staff_workload_measures() }},
        {{ column_list(case_hours_names(), to_double=true) }},
        {{ case_rates() }}
    from joined

)

select * from final
