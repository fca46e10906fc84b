-- The evaluation spine: one row per evaluated unit and month.
--   units  = village-level units (villages and communities) of every county that appears in any
--            feed, from the reference divisions (全覆盖: a unit with no data still gets its rows),
--            plus township-level units that appear in the staff roster (township offices have staff
--            but no population of their own);
--   months = per county, the months in which THAT county has data in some feed (roster
--            snapshot_date, registration as_of_date, case reported_at), within the evaluation period
--            (seed evaluation_period: start_month … end_month; a blank end_month means "up to the
--            month of the latest delivery date", so a mistyped future date that got past the ingest's
--            plausibility rule can never open a month nobody has delivered yet). So an old
--            delivery for one county (a 2011 case log) adds no month outside the period and no month
--            to any other county. Resident population is quarterly/yearly and carried forward, so
--            it does not add months of its own.

with

divisions as (

    select * from {{ ref('stg_reference__divisions') }}

),

staff_posts as (

    select * from {{ ref('stg_staff_roster__staff_posts') }}

),

registration as (

    select * from {{ ref('stg_household_registration__snapshots') }}

),

residents as (

    select * from {{ ref('stg_resident_population__snapshots') }}

),

cases as (

    select * from {{ ref('stg_case_log__cases') }}

),

period as (

    select * from {{ ref('evaluation_period') }}

),

feed_counties as (

    select county_code from staff_posts
    union
    select county_code from registration
    union
    select county_code from residents
    union
    select county_code from cases

),

staffed_units as (

    select distinct unit_code from staff_posts

),

villages as (

    select
        divisions.unit_code,
        divisions.unit_level,
        divisions.county_code,
        divisions.township_code
    from divisions
    inner join feed_counties
        on divisions.county_code = feed_counties.county_code
    where divisions.unit_level = 'village'

),

staffed_townships as (

    select
        divisions.unit_code,
        divisions.unit_level,
        divisions.county_code,
        divisions.township_code
    from divisions
    inner join staffed_units
        on divisions.unit_code = staffed_units.unit_code
    where divisions.unit_level = 'township'

),

evaluated_units as (

    select * from villages
    union all
    select * from staffed_townships

),

latest_delivery as (

    -- Month of the latest delivery date of any feed: the open end of the evaluation period.
    select {{ month_start('max(delivered.delivery_date)') }} as month
    from (
        select delivery_date from staff_posts
        union all
        select delivery_date from registration
        union all
        select delivery_date from cases
    ) as delivered

),

feed_county_months as (

    select
        county_code,
        {{ month_start('snapshot_date') }} as month
    from staff_posts
    union
    select
        county_code,
        {{ month_start('as_of_date') }} as month
    from registration
    union
    select
        county_code,
        reported_month as month
    from cases

),

county_months as (

    select
        feed_county_months.county_code,
        feed_county_months.month
    from feed_county_months
    cross join period
    cross join latest_delivery
    where
        feed_county_months.month >= period.start_month
        and feed_county_months.month <= coalesce(period.end_month, latest_delivery.month, feed_county_months.month)

),

final as (

    select
        evaluated_units.unit_code,
        county_months.month,
        {{ month_end('county_months.month') }} as month_end,
        evaluated_units.unit_level,
        evaluated_units.county_code,
        evaluated_units.township_code
    from evaluated_units
    inner join county_months
        on evaluated_units.county_code = county_months.county_code

)

select * from final
