-- One row per calendar date from var dim_date_start to var dim_date_end, with the official working
-- calendar: public holidays and make-up working days (调休上班) from the holiday_calendar seed, which
-- include/calendar/build_holidays_seed.py generates from the chinese_calendar package. Years the seed
-- (i.e. the package) does not cover still get dates, by the Monday–Friday rule, and are flagged
-- calendar_source = 'weekday_fallback' so that nobody mistakes them for the official calendar.
-- working_days_before is the running count of working days before the date: working time between two
-- timestamps is computed from it in O(1) (macro working_clock_seconds).
{%- set start = modules.datetime.date.fromisoformat(var('dim_date_start')) %}
{%- set stop = modules.datetime.date.fromisoformat(var('dim_date_end')) %}
{%- set n_days = (stop - start).days + 1 %}

with

holidays as (

    select * from {{ ref('holiday_calendar') }}

),

coverage as (

    select
        min(calendar_first_year) as first_year,
        max(calendar_last_year) as last_year
    from holidays

),

numbers as (

    {{ dbt.generate_series(n_days) }}

),

dates as (

    select
        cast({{ dbt.dateadd('day', 'generated_number - 1', "cast('" ~ start ~ "' as date)") }} as date) as date_day
    from numbers
    where generated_number <= {{ n_days }}

),

classified as (

    select
        dates.date_day,
        {{ date_part_int('year', 'dates.date_day') }} as calendar_year,
        {{ month_start('dates.date_day') }} as month,
        {{ date_part_int('isodow', 'dates.date_day') }} as iso_day_of_week,
        holidays.day_type as official_day_type,
        holidays.is_working_day as official_is_working_day,
        holidays.holiday_name,
        holidays.holiday_name_zh,
        case
            when
                {{ date_part_int('year', 'dates.date_day') }}
                between coverage.first_year and coverage.last_year
                then 'chinese_calendar'
            else 'weekday_fallback'
        end as calendar_source
    from dates
    cross join coverage
    left join holidays
        on dates.date_day = holidays.calendar_date

),

working as (

    select
        date_day,
        calendar_year,
        month,
        iso_day_of_week,
        iso_day_of_week >= 6 as is_weekend,
        coalesce(official_day_type, case when iso_day_of_week >= 6 then 'weekend' else 'workday' end) as day_type,
        coalesce(official_is_working_day, iso_day_of_week < 6) as is_working_day,
        holiday_name,
        holiday_name_zh,
        calendar_source
    from classified

),

final as (

    select
        date_day,
        calendar_year,
        month,
        iso_day_of_week,
        is_weekend,
        day_type,
        is_working_day,
        holiday_name,
        holiday_name_zh,
        calendar_source,
        cast(coalesce(
            sum(case when is_working_day then 1 else 0 end) over (
                order by date_day rows between unbounded preceding and 1 preceding
            ),
            0
        ) as {{ dbt.type_int() }}) as working_days_before
    from working

)

select * from final
