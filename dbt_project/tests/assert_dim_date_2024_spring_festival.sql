-- dim_date built on the REAL holiday_calendar seed (the unit tests mock every ref, the seed included):
-- the 2024 Spring Festival as published by the State Council (国办发明电〔2023〕7号): 02-04 (Sun)
-- and 02-18 (Sun) make-up working days, 02-10 … 02-17 holidays. Hand-computed expectations for
-- 2024-02-03 … 2024-02-19; working_days_before is compared as the difference from 2024-02-03's value
-- (the running count starts in 2004). Returns the dates that differ: no row = pass.

with

expected as (

    select
        cast(date_day as date) as date_day,
        day_type,
        is_working_day,
        working_days_since
    from (
        values
        ('2024-02-03', 'weekend', false, 0),
        ('2024-02-04', 'makeup_working_day', true, 0),
        ('2024-02-05', 'workday', true, 1),
        ('2024-02-09', 'workday', true, 5),
        ('2024-02-10', 'holiday', false, 6),
        ('2024-02-12', 'holiday', false, 6),
        ('2024-02-16', 'holiday', false, 6),
        ('2024-02-17', 'holiday', false, 6),
        ('2024-02-18', 'makeup_working_day', true, 6),
        ('2024-02-19', 'workday', true, 7)
    ) as v (date_day, day_type, is_working_day, working_days_since)  -- noqa: AL05

),

start_day as (

    select working_days_before
    from {{ ref('dim_date') }}
    where date_day = cast('2024-02-03' as date)

),

actual as (

    select
        dim_date.date_day,
        dim_date.day_type,
        dim_date.is_working_day,
        dim_date.calendar_source,
        dim_date.working_days_before - start_day.working_days_before as working_days_since
    from {{ ref('dim_date') }} as dim_date
    cross join start_day
    where dim_date.date_day between cast('2024-02-03' as date) and cast('2024-02-19' as date)

)

select
    expected.date_day,
    expected.day_type as expected_day_type,
    actual.day_type as actual_day_type,
    expected.working_days_since as expected_working_days_since,
    actual.working_days_since as actual_working_days_since
from expected
left join actual
    on expected.date_day = actual.date_day
where
    actual.date_day is null
    or actual.day_type <> expected.day_type
    or actual.is_working_day <> expected.is_working_day
    or actual.working_days_since <> expected.working_days_since
    or actual.calendar_source <> 'chinese_calendar'
